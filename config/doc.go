// Package config holds the TOML configuration of maildlp: the main config
// ([Config]: listeners, limits, failure outcomes, logging, outbox) and the
// policy files ([Policy], [Detector]). Decoding is strict: an unknown key,
// a wrong type or an invalid value is an error naming file:line, and all
// errors are reported at once.
//
// Values are parsed once, at load, into the types the rest of maildlp
// uses: enumerations ([LogLevel], [HopMode], [Severity]...), networks
// ([Network]), addresses ([HostPort], [MilterAddr], [NextHop]) and the
// hop's TLS certificate and trust store. Every default of the main config
// is one table (defaults.go), applied once at load and checked against
// docs/config.md by a test. The package knows no detector: [Load] is
// given the engine's catalogue of built-in names.
package config
