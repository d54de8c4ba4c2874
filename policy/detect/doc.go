// Package detect finds sensitive values in text: built-in data
// identifiers with published validators, and detectors defined in policy
// files (keyword lists and dictionaries, regular expressions).
//
// A [Detector] appends [Match] values to a slice. A match never holds the
// value it found: [Match.Evidence] is masked when the match is made
// ("****1111" for a card, "AKIA****" for a credential, see [MaskTail] and
// [MaskPrefix]) and [Match.Key] is a per-process hash of the canonical
// value, for counting distinct values.
//
// # Built-in identifiers
//
// Each built-in identifier is one file holding one type (for example
// [CardNumber] in card_number.go) and is listed in registry.go, the one
// table of names; [Builtins] returns the catalogue and [IsBuiltin] checks
// a name. The validators follow the issuers' and registries' rules:
// ISO/IEC 7812 IIN ranges and the Luhn check for payment cards; ISO 13616
// with the SWIFT IBAN registry's country lengths and MOD 97-10 for IBANs;
// ISO 9362 for BICs; SSA rules for US SSNs and IRS ranges for ITINs; the
// ABA 3-7-1 checksum and Federal Reserve prefixes for routing numbers;
// HMRC prefix rules for National Insurance numbers; NHS modulus 11; ISO
// 7064 MOD 11,10 for the German Steuer-ID; the INSEE key for the French
// NIR; the mod-23 letter for Spanish DNI and NIE; the DM 23/12/1976 check
// character for the Italian codice fiscale; the elfproef for the Dutch
// BSN; PESEL weights and date; Luhn for the Canadian SIN; ATO weights for
// the Australian TFN; Verhoeff for Aadhaar; and the published structure
// of AWS, Google, GitHub (with its CRC32 checksum), Slack and Stripe
// credentials, JWTs (RFC 7519) and PEM/OpenSSH private keys (RFC 7468).
//
// Confidence comes in tiers: a validated value alone is [Low] or [Medium]
// according to how likely a random string is to pass its validator; a
// supporting keyword of the identifier (in the identifier's languages)
// within [Options.ProximityWindow] bytes before or after the match raises
// it to [High]. Published sample values (test card numbers, registry
// example IBANs, documentation keys) are reported with
// [Match.TestValue] set, so that policies can ignore them.
//
// # One pass
//
// A [Set] compiled by [NewSet] scans a text once for all its built-in
// identifiers: a byte-class scanner splits the text into words; digit
// runs, with their separators, go to the numeric validators by length and
// grouping; words of a fitting shape or prefix (IBAN, BIC, NINO, PAN,
// codice fiscale, DNI/NIE, AKIA, ghp_, xox, sk_live_, eyJ, AIza,
// hooks.slack.com, -----BEGIN) go to their validators. No regular
// expression runs over the text. Keywords are then searched with one
// Aho-Corasick automaton over the windows around the matches only, so
// text without candidates costs one table lookup per byte.
//
// Digits are grouped only when written in a standard way: groups joined by
// exactly one separator of one kind (space, NBSP, '-', '.', '/', or a line
// break), in a grouping of the identifier (4-4-4-4 for a card, 3-2-4 for
// an SSN, …), and not continued by a further group of the same width.
// A number inside a longer digit run or glued to letters is not reported.
//
// Custom detectors: [NewKeywords] (Aho-Corasick, case and whole-word
// options, sized for dictionaries of many thousand words) and [NewRegex]
// (RE2 syntax, with a required-literal prefilter).
package detect
