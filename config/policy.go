package config

// Policy is one [[policy]] table. The full schema is documented in
// docs/policy.md and contrib/policies/default.toml.
type Policy struct {
	Name string `toml:"name"`
}

// Detector is one [[detector]] table: a user-defined detector (keywords,
// regex, dictionary) that policies refer to by name.
type Detector struct {
	Name string `toml:"name"`
}
