package corpus

import (
	"math/rand/v2"
	"strings"
)

// Rand is the deterministic source of every generated value.
type Rand struct{ *rand.Rand }

// NewRand returns a source seeded with seed.
func NewRand(seed uint64) *Rand {
	return &Rand{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Digits returns n random decimal digits.
func (r *Rand) Digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// DigitsNZ returns n random digits, the first not zero.
func (r *Rand) DigitsNZ(n int) string {
	return string(byte('1'+r.IntN(9))) + r.Digits(n-1)
}

// From returns n characters drawn from alphabet.
func (r *Rand) From(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// Pick returns one of the strings.
func (r *Rand) Pick(s ...string) string { return s[r.IntN(len(s))] }

// Hex returns n lower-case hex digits.
func (r *Rand) Hex(n int) string { return r.From("0123456789abcdef", n) }

const (
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower  = "abcdefghijklmnopqrstuvwxyz"
	digits = "0123456789"
	alnum  = upper + lower + digits
)

// Group writes s in groups of the given widths joined by sep.
func Group(s, sep string, widths ...int) string {
	var b strings.Builder
	for i, w := range widths {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[:w])
		s = s[w:]
	}
	if s != "" {
		b.WriteString(sep + s)
	}
	return b.String()
}
