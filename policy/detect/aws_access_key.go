package detect

// AWSAccessKey finds AWS access key IDs: a four-character prefix followed
// by 16 characters of the base32 alphabet A-Z2-7, 20 characters in all, as
// a whole word. The credential prefixes AKIA (long-term), ASIA (temporary,
// STS), ABIA (STS service bearer token), ACCA (context-specific
// credential) and A3T? (older keys) are medium alone; the other unique-ID
// prefixes AWS documents (AGPA group, AIDA user, AIPA instance profile,
// ANPA managed policy, ANVA policy version, APKA public key, AROA role,
// ASCA certificate) name a resource rather than authenticate, and are low.
type AWSAccessKey struct{ builtin }

func newAWSAccessKey(o Options) Detector { return &AWSAccessKey{newBuiltin(idAWSAccessKey, o)} }

var awsAccessKeyInfo = Info{
	Name:        "aws_access_key",
	Description: "AWS access key IDs (AKIA…, ASIA…, ABIA…, ACCA…, A3T…) and other AWS unique IDs",
	Validator:   "AKIA, ASIA, ABIA, ACCA, A3T + one letter or digit, or a unique-ID prefix (AGPA, AIDA, AIPA, ANPA, ANVA, APKA, AROA, ASCA), then 16 characters A-Z2-7, whole word; IDs ending in EXAMPLE are AWS documentation values",
	Confidence:  "medium alone for the credential prefixes (AKIA, ASIA, ABIA, ACCA, A3T), low for the unique-ID prefixes; high with a keyword within the proximity window",
	Keywords: []string{
		"aws", "aws_access_key_id", "access key", "access_key", "accesskeyid", "access key id", "secret", "credentials", "iam", "amazon",
	},
	TestValues: []string{"AKIAIOSFODNN7EXAMPLE"},
	Evidence:   "AKIA**** (type prefix only)",
	Separators: "none",
}

// awsAccessKey checks a 20-character word.
func (sc *scanner) awsAccessKey(i, j int) int {
	w := sc.text[i:j]
	conf := base(idAWSAccessKey, formPlain)
	switch w[:4] {
	case "AKIA", "ASIA", "ABIA", "ACCA":
	case "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA":
		conf = Low
	default:
		if w[:3] != "A3T" || !isUpper(w[3]) && !isDigit(w[3]) {
			return -1
		}
	}
	for k := 4; k < len(w); k++ {
		if c := w[k]; !isUpper(c) && (c < '2' || c > '7') {
			return -1
		}
	}
	v := append(sc.buf[:0], w...)
	test := w[len(w)-7:] == "EXAMPLE"
	sc.emit(idAWSAccessKey, i, j, conf, test, MaskPrefix(w[:4]), keyOf(idAWSAccessKey, v))
	return j
}

var _ Detector = (*AWSAccessKey)(nil)
