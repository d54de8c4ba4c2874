package detect

import (
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"math/big"
	"strings"
	"testing"
)

// Check digits computed independently of the validators under test, to
// build checksum-valid fake values.

// luhnComplete appends the Luhn check digit to the digits s.
func luhnComplete(s string) string {
	sum := 0
	for i := 0; i < len(s); i++ {
		v := int(s[len(s)-1-i] - '0')
		if i%2 == 0 { // doubled once the check digit is appended
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return s + fmt.Sprint((10-sum%10)%10)
}

// ibanComplete returns the IBAN for country cc and bban with computed
// check digits (ISO 7064 MOD 97-10, via math/big).
func ibanComplete(cc, bban string) string {
	var b strings.Builder
	for _, r := range bban + cc + "00" {
		if r >= 'A' && r <= 'Z' {
			fmt.Fprint(&b, int(r-'A'+10))
		} else {
			b.WriteRune(r)
		}
	}
	n, _ := new(big.Int).SetString(b.String(), 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%s%02d%s", cc, check, bban)
}

// gitHubToken builds a classic token with its CRC32 base62 checksum.
func fakeGitHubToken(prefix, random30 string) string {
	c := crc32.ChecksumIEEE([]byte(random30))
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var sum [6]byte
	for k := 5; k >= 0; k-- {
		sum[k] = alpha[c%62]
		c /= 62
	}
	return prefix + random30 + string(sum[:])
}

// fakeJWT builds header.payload.signature from JSON strings.
func fakeJWT(header, payload string) string {
	e := base64.RawURLEncoding
	return e.EncodeToString([]byte(header)) + "." + e.EncodeToString([]byte(payload)) + ".c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
}

// fakePEM builds an armoured block with a base64 body of n characters.
func fakePEM(label string, n int) string {
	body := strings.Repeat("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw", n/64+1)[:n]
	var b strings.Builder
	b.WriteString("-----BEGIN " + label + "-----\n")
	for len(body) > 64 {
		b.WriteString(body[:64] + "\n")
		body = body[64:]
	}
	b.WriteString(body + "\n-----END " + label + "-----\n")
	return b.String()
}

// mustSet compiles a Set of the named built-ins.
func mustSet(tb testing.TB, names ...string) *Set {
	tb.Helper()
	s, err := NewSet(names, nil, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// allNames returns the names of every built-in identifier.
func allNames() []string {
	var n []string
	for _, i := range Builtins() {
		n = append(n, i.Name)
	}
	return n
}

// find returns the matches of detector name.
func find(ms []Match, name string) []Match {
	var out []Match
	for _, m := range ms {
		if m.Detector == name {
			out = append(out, m)
		}
	}
	return out
}
