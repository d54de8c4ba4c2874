package detect

// AWSAccessKey finds AWS access key IDs: AKIA (long-term) or ASIA
// (temporary, STS) followed by 16 characters of the base32 alphabet
// A-Z2-7, 20 characters in all, as a whole word.
type AWSAccessKey struct{ builtin }

func newAWSAccessKey(o Options) Detector { return &AWSAccessKey{newBuiltin(idAWSAccessKey, o)} }

var awsAccessKeyInfo = Info{
	Name:        "aws_access_key",
	Description: "AWS access key IDs (AKIA…, ASIA…)",
	Validator:   "AKIA or ASIA + 16 characters A-Z2-7, whole word; IDs ending in EXAMPLE are AWS documentation values",
	Confidence:  "medium alone; high with a keyword within the proximity window",
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
	if w[:4] != "AKIA" && w[:4] != "ASIA" {
		return -1
	}
	for k := 4; k < len(w); k++ {
		if c := w[k]; !isUpper(c) && (c < '2' || c > '7') {
			return -1
		}
	}
	v := append(sc.buf[:0], w...)
	test := w[len(w)-7:] == "EXAMPLE"
	sc.emit(idAWSAccessKey, i, j, Medium, test, MaskPrefix(w[:4]), keyOf(idAWSAccessKey, v))
	return j
}

var _ Detector = (*AWSAccessKey)(nil)
