package config

import "slices"

// builtinNames are the canonical names of the built-in identifiers.
var builtinNames = []string{
	"credit_card", "iban", "us_ssn", "us_itin", "aba_routing", "swift_bic",
	"uk_nino", "uk_nhs", "de_steuer_id", "fr_nir", "es_dni", "es_nie",
	"it_codice_fiscale", "nl_bsn", "pl_pesel", "ca_sin", "au_tfn",
	"in_aadhaar", "in_pan", "aws_access_key", "aws_secret_key", "gcp_api_key",
	"github_token", "slack_token", "slack_webhook", "stripe_key", "jwt",
	"private_key",
}

// isBuiltin reports whether name is a built-in identifier.
func isBuiltin(name string) bool { return slices.Contains(builtinNames, name) }
