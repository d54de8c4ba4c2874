package detect

import (
	"encoding/base64"
	"encoding/json"
)

// JWT finds JSON Web Tokens in compact serialisation (RFC 7519, RFC 7515):
// three base64url segments joined by dots whose first segment decodes to a
// JSON object with an "alg" member.
type JWT struct{ builtin }

func newJWT(o Options) Detector { return &JWT{newBuiltin(idJWT, o)} }

var jwtInfo = Info{
	Name:        "jwt",
	Description: "JSON Web Tokens (signed, compact form)",
	Validator:   "header.payload.signature in base64url without padding; the header decodes to a JSON object with \"alg\"; the payload decodes as base64url",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"jwt", "token", "bearer", "authorization", "id_token", "access_token", "refresh_token", "session",
	},
	TestValues: []string{"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"},
	Evidence:   "eyJ**** (type prefix only)",
	Separators: "none",
}

// maxJWTSegment bounds the header and payload a candidate may have; longer
// runs are not tokens seen in mail.
const maxJWTSegment = 16 << 10

var jwtTestSet = map[string]bool{jwtInfo.TestValues[0]: true}

// jwtSegment returns the end of the base64url run starting at p.
func jwtSegment(t string, p int) int {
	e := p
	for e < len(t) && e-p <= maxJWTSegment && isBase64URL(t[e]) {
		e++
	}
	return e
}

// jwt checks the token starting with "eyJ" at i.
func (sc *scanner) jwt(i int) int {
	t := sc.text
	if i > 0 && t[i-1] == '-' {
		return -1
	}
	h := jwtSegment(t, i)
	if h-i < 10 || h >= len(t) || t[h] != '.' {
		return -1
	}
	p := jwtSegment(t, h+1)
	if p-h-1 < 2 || p >= len(t) || t[p] != '.' {
		return -1
	}
	e := jwtSegment(t, p+1)
	if e < len(t) && t[e] == '=' {
		return -1 // padded: not a JWS compact token
	}
	if e < len(t) && t[e] == '.' {
		// JWE has five segments; a short fourth one that ends the run is
		// a file extension ("eyJ….txt", a token used as a file name).
		q := jwtSegment(t, e+1)
		if q-e-1 > 5 || q < len(t) && t[q] == '.' {
			return -1
		}
	}
	hdr, err := base64.RawURLEncoding.DecodeString(t[i:h])
	if err != nil {
		return -1
	}
	var head struct {
		Alg *string `json:"alg"`
	}
	if json.Unmarshal(hdr, &head) != nil || head.Alg == nil {
		return -1
	}
	if _, err := base64.RawURLEncoding.DecodeString(t[h+1 : p]); err != nil {
		return -1
	}
	sc.emit(idJWT, i, e, Medium, jwtTestSet[t[i:e]], MaskPrefix("eyJ"), keyOfString(idJWT, t[i:e]))
	return e
}

var _ Detector = (*JWT)(nil)
