package detect

import "math"

// AWSSecretKey finds AWS secret access keys: 40 characters of the base64
// alphabet with upper-case, lower-case and digits and a high character
// entropy. Many random strings look like that, so a secret key alone is
// low confidence; a keyword such as aws_secret_access_key nearby makes it
// high.
type AWSSecretKey struct{ builtin }

func newAWSSecretKey(o Options) Detector { return &AWSSecretKey{newBuiltin(idAWSSecretKey, o)} }

var awsSecretKeyInfo = Info{
	Name:        "aws_secret_key",
	Description: "AWS secret access keys (40 base64 characters)",
	Validator:   "exactly 40 characters of A-Z a-z 0-9 + / not inside a longer token, with upper, lower and digits and Shannon entropy ≥ 4.2 bits per character; keys ending in EXAMPLEKEY are AWS documentation values",
	Confidence:  "low alone; high with a keyword within the proximity window",
	Keywords: []string{
		"aws_secret_access_key", "secret_access_key", "secretaccesskey", "aws secret", "secret access key", "secret key", "aws_secret", "secret", "aws",
	},
	TestValues: []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	Evidence:   "**** (nothing shown)",
	Separators: "none",
}

func isBase64Std(c byte) bool { return isAlnum(c) || c == '+' || c == '/' }

// awsSecretKey checks the 40-character base64 token starting at i.
func (sc *scanner) awsSecretKey(i int) int {
	t := sc.text
	if i > 0 && (isBase64Std(t[i-1]) || t[i-1] == '-' || t[i-1] == '_') {
		return -1
	}
	e := i
	for e < len(t) && e-i <= 40 && isBase64Std(t[e]) {
		e++
	}
	if e-i != 40 || (e < len(t) && (t[e] == '=' || t[e] == '-' || wordClass[t[e]] != 0)) {
		return -1
	}
	v := t[i:e]
	var f uint8
	var count [128]uint8
	for k := 0; k < len(v); k++ {
		f |= wordClass[v[k]]
		count[v[k]]++
	}
	if f&(cUpper|cLower|cDigit) != cUpper|cLower|cDigit {
		return -1
	}
	h := 0.0
	for _, n := range count {
		if n > 0 {
			p := float64(n) / 40
			h -= p * math.Log2(p)
		}
	}
	if h < 4.2 {
		return -1
	}
	b := append(sc.buf[:0], v...)
	test := v[30:] == "EXAMPLEKEY"
	sc.emit(idAWSSecretKey, i, e, Low, test, maskRun, keyOf(idAWSSecretKey, b))
	return e
}

var _ Detector = (*AWSSecretKey)(nil)
