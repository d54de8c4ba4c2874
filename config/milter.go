package config

// Milter configures the milter front end.
type Milter struct {
	Enabled bool `toml:"enabled"`
	// Listen addresses as Postfix and Sendmail write them:
	// "inet:10030@127.0.0.1" or "unix:/run/maildlp/milter.sock".
	Listen []string `toml:"listen"`
}
