package policy

import (
	"crypto/rand"
	"encoding/binary"
)

// crockford is the Crockford base32 alphabet used by ULIDs.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newIncidentID returns a random, unique, time-sortable id of 26
// characters in the ULID layout: 48 bits of Unix milliseconds then 80
// random bits (crypto/rand), Crockford base32.
func newIncidentID() string {
	var b [16]byte
	ms := uint64(now().UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	rand.Read(b[6:])
	var out [26]byte
	// 128 bits -> 26 base32 digits, most significant first (2 leading pad bits)
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
