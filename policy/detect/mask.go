package detect

import (
	"hash/maphash"
	"unicode/utf8"
)

// maskRun is what stands in for the hidden part of a value.
const maskRun = "****"

// MaskTail returns "****" followed by at most the last keep characters of
// v, and never more than a third of v's characters, so that short values
// are hidden entirely: MaskTail("4111111111111111", 4) is "****1111",
// MaskTail("abc", 4) is "****".
func MaskTail(v string, keep int) string {
	n := utf8.RuneCountInString(v)
	if keep > n/3 {
		keep = n / 3
	}
	if keep <= 0 {
		return maskRun
	}
	i := len(v)
	for range keep {
		_, size := utf8.DecodeLastRuneInString(v[:i])
		i -= size
	}
	return maskRun + v[i:]
}

// MaskPrefix returns the non-secret type prefix of a credential followed by
// "****", e.g. MaskPrefix("AKIA") is "AKIA****". The prefix must name the
// kind of credential only, never part of its secret.
func MaskPrefix(prefix string) string { return prefix + maskRun }

// maskDigits shows the last keep bytes of the canonical value d; callers
// choose keep well below a third of the value's length.
func maskDigits(d []byte, keep int) string {
	if keep > len(d)/3 {
		keep = len(d) / 3
	}
	return maskRun + string(d[len(d)-keep:])
}

// keySeed is chosen once per process. A Key is for counting distinct values
// within the process: with a fixed seed, the hash of a 9-digit number could
// be reversed by hashing every 9-digit number, so keys are neither stable
// across processes nor meant to be stored.
var keySeed = maphash.MakeSeed()

// keyOf hashes a canonical value for distinct counting.
func keyOf(i id, canon []byte) uint64 {
	return maphash.Bytes(keySeed, canon) ^ idMix(i)
}

// keyOfString hashes a canonical value held as a string.
func keyOfString(i id, canon string) uint64 {
	return maphash.String(keySeed, canon) ^ idMix(i)
}

// keyString hashes a canonical string value of a policy-defined detector.
func keyString(name, canon string) uint64 {
	var h maphash.Hash
	h.SetSeed(keySeed)
	h.WriteString(name)
	h.WriteByte(0)
	h.WriteString(canon)
	return h.Sum64()
}

// idMix spreads an identifier number over 64 bits, so equal values of two
// identifiers get different keys.
func idMix(i id) uint64 { return uint64(i) * 0x9e3779b97f4a7c15 }
