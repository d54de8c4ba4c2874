package detect

import "fmt"

// The confidence model. A match's confidence is decided in three steps,
// the same for every identifier, from the one table below:
//
//  1. Base: the validator's false-accept rate on random input of the
//     value's shape and how specific the written form is give the
//     confidence of a validated value alone (model[i], by form).
//  2. Negative context caps it at Low, and a keyword can no longer raise
//     it: the value is part of a URL, path, file name or compound
//     identifier; it carries its own label (Order, Invoice, Tracking, ...)
//     nearer than any keyword of the identifier; or it is a separated
//     number that starts with a year and uses '-', '.' or '/' (a
//     reference such as 2026-4711-0815).
//  3. Positive context: one of the identifier's keywords within the
//     proximity window, before or after the value, raises it to High.
//
// Values that are slices of something longer (a window of a longer digit
// run or run of groups, the tail of an IBAN-like string) are not
// candidates at all; see chain.go and iban.go.

// form is how a value was written.
type form uint8

const (
	formPlain  form = iota // unseparated
	formSpaced             // a standard grouping, separated by spaces, tabs, line breaks, '.' or '/'
	formDashed             // a standard grouping separated by '-'
)

// tier is one identifier's row of the confidence model.
type tier struct {
	far    string        // validator's false-accept rate on random input of the shape
	shape  string        // how specific the format is
	conf   [3]Confidence // confidence alone, by form
	reason string        // why these tiers
}

// model is the confidence model, indexed by id.
var model = [numIDs]tier{
	idCreditCard: {"1 in 10 (Luhn), and only IIN prefixes with their lengths", "12-19 digits with a brand prefix; 4-4-4-4, 4-6-5, 4-6-4, 4-4-4-3; lists of 4-4-4-4, pairs, single digits",
		[3]Confidence{Medium, Medium, Medium}, "Luhn plus IIN range and length: about 1 random 16-digit number in 30 passes"},
	idIBAN: {"1 in 97 (MOD 97-10), country code and its registered length", "2 letters, 2 check digits, BBAN; groups of 4",
		[3]Confidence{Medium, Medium, Medium}, "strong check and a specific shape"},
	idUSSSN: {"no check digit: about 9 in 10 nine-digit numbers pass the SSA ranges", "9 digits; ddd-dd-dddd",
		[3]Confidence{Low, Low, Medium}, "only the dashed 3-2-4 form is specific"},
	idUSITIN: {"no check digit: about 1 in 23 nine-digit numbers pass the IRS ranges", "9 digits starting with 9; 9dd-dd-dddd",
		[3]Confidence{Low, Low, Medium}, "only the dashed 3-2-4 form is specific"},
	idABARouting: {"1 in 10 (3-7-1 weights), prefix ranges", "9 digits",
		[3]Confidence{Low, Low, Low}, "weak check on a common length"},
	idSwiftBIC: {"no check: country code only", "8 or 11 capitals and digits",
		[3]Confidence{Low, Low, Low}, "looks like words and codes"},
	idUKNINO: {"no check: letter rules and suffix A-D (part numbers such as MC146818A pass)", "2 letters, 6 digits, letter A-D; AB 12 34 56 C",
		[3]Confidence{Low, Medium, Medium}, "no check digit: only the spaced form is specific"},
	idUKNHS: {"1 in 11 (mod 11)", "10 digits; 3-3-4",
		[3]Confidence{Low, Low, Low}, "weak check on a common length"},
	idDESteuerID: {"about 1 in 30 (ISO 7064 MOD 11,10 and the repeated-digit rule)", "11 digits; 2-3-3-3",
		[3]Confidence{Low, Low, Low}, "weak check on a common length"},
	idFRNIR: {"1 in 97 (key), sex, month and département", "15 digits or 2A/2B; 1-2-2-2-3-3-2",
		[3]Confidence{Medium, Medium, Medium}, "strong key and a structured value"},
	idESDNI: {"1 in 23 (control letter)", "8 digits and a letter",
		[3]Confidence{Medium, Medium, Medium}, "check letter on a specific mixed shape"},
	idESNIE: {"1 in 23 (control letter)", "X, Y or Z, 7 digits and a letter",
		[3]Confidence{Medium, Medium, Medium}, "check letter on a specific mixed shape"},
	idITCodiceFiscale: {"1 in 26 (check letter), date and month letter", "16 letters and digits in a fixed pattern",
		[3]Confidence{Medium, Medium, Medium}, "check letter on a very specific shape"},
	idNLBSN: {"1 in 11 (elfproef)", "9 digits",
		[3]Confidence{Low, Low, Low}, "weak check on a common length"},
	idPLPESEL: {"1 in 10 (weights 1-3-7-9) and a date of birth", "11 digits",
		[3]Confidence{Low, Low, Low}, "weak check on a common length"},
	idCASIN: {"1 in 10 (Luhn)", "9 digits; 3-3-3",
		[3]Confidence{Low, Low, Low}, "weak check on a common length"},
	idAUTFN: {"1 in 11 (weights)", "8 or 9 digits; 3-3-3",
		[3]Confidence{Low, Low, Low}, "weak check on a common length"},
	idINAadhaar: {"1 in 10 (Verhoeff)", "12 digits; 4-4-4",
		[3]Confidence{Low, Low, Low}, "weak check; 4-4-4 is also how tracking and phone numbers are written"},
	idINPAN: {"no check: holder-type letter only", "5 letters, 4 digits, letter",
		[3]Confidence{Low, Low, Low}, "no check digit"},
	idAWSAccessKey: {"no check: a credential prefix and the base32 alphabet", "AKIA, ASIA, ABIA, ACCA or A3T? and 16 characters",
		[3]Confidence{Medium, Medium, Medium}, "a specific prefix (other AWS unique-ID prefixes are low: they name, not authenticate)"},
	idAWSSecretKey: {"none: any 40 base64 characters", "40 characters",
		[3]Confidence{Low, Low, Low}, "shape only"},
	idGCPAPIKey: {"no check: the AIza prefix", "AIza and 35 characters",
		[3]Confidence{Medium, Medium, Medium}, "a specific prefix"},
	idGitHubToken: {"1 in 2^32 (CRC32 tail) or a specific prefix", "gh?_ and 36 characters",
		[3]Confidence{Medium, Medium, Medium}, "a specific prefix"},
	idSlackToken: {"no check: the xox?- prefix", "xoxb-, xoxp-, ...",
		[3]Confidence{Medium, Medium, Medium}, "a specific prefix"},
	idSlackWebhook: {"no check: the hooks.slack.com URL", "a URL",
		[3]Confidence{Medium, Medium, Medium}, "a specific URL"},
	idStripeKey: {"no check: the sk_/rk_ prefix", "sk_live_ and characters",
		[3]Confidence{Medium, Medium, Medium}, "a specific prefix"},
	idJWT: {"a base64url JSON header with alg", "three base64url parts",
		[3]Confidence{Medium, Medium, Medium}, "a specific structure"},
	idPrivateKey: {"the PEM armour", "BEGIN ... PRIVATE KEY armour",
		[3]Confidence{Medium, Medium, Medium}, "a specific structure"},
}

// base returns the confidence of a validated value of identifier i written
// in form f, before context.
func base(i id, f form) Confidence { return model[i].conf[f] }

// formOf returns the form of a value: unseparated, or separated by sep.
func formOf(grouped bool, sep uint8) form {
	switch {
	case !grouped:
		return formPlain
	case sep == sepDash:
		return formDashed
	}
	return formSpaced
}

// Demotion names the negative context that capped a match at Low.
type Demotion uint8

const (
	NotDemoted Demotion = iota
	// DemotedIdentifier: the value is part of a URL, path, file name or
	// compound identifier (joined to words by '-', '.', '/', '=').
	DemotedIdentifier
	// DemotedLabel: the value carries its own label (Order, Invoice,
	// Tracking, ...) nearer than any keyword of the identifier.
	DemotedLabel
	// DemotedYear: a separated number that starts with a year and uses
	// '-', '.' or '/', as reference numbers do.
	DemotedYear
	// DemotedColumn: a number in a table column whose neighbouring
	// values are numbers of the same width that fail the validator.
	DemotedColumn
	// DemotedCaps: an all-letter code among words written in capitals
	// (CUSTOMER, VERSIONS fit the shape of a BIC).
	DemotedCaps
	// DemotedCard: the same digits are a valid card number (IIN and
	// Luhn), which a 15-digit French NIR-shaped Amex number, say, far more
	// likely is.
	DemotedCard
)

func (d Demotion) String() string {
	switch d {
	case NotDemoted:
		return ""
	case DemotedIdentifier:
		return "part of a URL, path, file name or identifier"
	case DemotedLabel:
		return "labelled as another kind of number"
	case DemotedYear:
		return "starts with a year, written like a reference number"
	case DemotedColumn:
		return "the numbers around it in its table column are not of this kind"
	case DemotedCaps:
		return "a word among words written in capitals"
	case DemotedCard:
		return "the same digits are a valid card number"
	}
	return fmt.Sprintf("demotion(%d)", int(d))
}

// Why says how a match got its confidence. It names keywords and labels
// (words of the catalogue), never the matched value.
type Why struct {
	Base     Confidence // from the validator and the written form alone
	Keyword  string     // the keyword that raised the match to High, if any
	Distance int        // characters between that keyword and the match
	Column   bool       // the keyword or label is the header of the value's table column
	Demoted  Demotion   // the negative context that capped it at Low, if any
	Label    string     // for DemotedLabel: the label
}

// String is one line for maildlp scan --explain.
func (w Why) String() string {
	if w.Base == 0 {
		return "confidence set by the detector's definition"
	}
	s := "alone " + w.Base.String()
	switch {
	case w.Demoted == DemotedLabel && w.Column:
		s += fmt.Sprintf("; low: column header %q", w.Label)
	case w.Demoted == DemotedLabel:
		s += fmt.Sprintf("; low: labelled %q", w.Label)
	case w.Demoted != NotDemoted:
		s += "; low: " + w.Demoted.String()
	}
	if w.Keyword != "" && w.Column {
		s += fmt.Sprintf("; high: keyword %q in the column header", w.Keyword)
	} else if w.Keyword != "" {
		s += fmt.Sprintf("; high: keyword %q %d characters away", w.Keyword, w.Distance)
	}
	return s
}
