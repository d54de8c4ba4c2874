// Package config holds the TOML configuration of maildlp: the main config
// ([Config]: listeners, limits, failure outcomes, logging, outbox) and the
// policy files ([Policy], [Detector]). Decoding is strict: an unknown key,
// a wrong type or an invalid value is an error naming file:line, and all
// errors are reported at once.
package config
