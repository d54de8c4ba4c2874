package config

// Reinject configures the SMTP reinjection hop.
type Reinject struct {
	Enabled bool   `toml:"enabled"`
	Listen  string `toml:"listen"` // default 127.0.0.1:10025
	// Mode is "reflect" (default) or "forward".
	Mode      string `toml:"mode"`
	ReflectTo string `toml:"reflect_to"` // default 127.0.0.1:10026
}
