package idm

import "math/bits"

// Default fingerprint parameters: k-grams of 32 normalised characters,
// windows of 64 k-grams, so every shared passage of t = 95 characters or
// more yields a common fingerprint, and about 2/(w+1) = 3 % of positions
// are fingerprints.
const (
	DefaultK = 32
	DefaultW = 64
)

// fingerprint is one winnowed k-gram: its keyed hash and where it starts
// in the normalised text.
type fingerprint struct {
	hash uint64
	pos  int
}

// winnower selects the fingerprints of a text: the rolling hash of every
// k-gram (a cyclic polynomial, "buzhash", over a table derived from the
// key, so that which k-grams are selected is secret too), and the minimum
// of every window of w consecutive hashes, the rightmost on ties, each
// selected position reported once (robust winnowing). The stored value is
// SipHash of the rolling hash under another subkey, computed only for the
// ~3 % of positions selected. Its work is linear in the text: each
// position enters and leaves the window queue once.
type winnower struct {
	key   *Key
	k, w  int
	queue []fingerprint // candidate minima, hashes increasing; a ring of w
}

func newWinnower(key *Key, k, w int) *winnower {
	return &winnower{key: key, k: k, w: w, queue: make([]fingerprint, w)}
}

// run calls emit for every fingerprint of text, in text order, with the
// raw rolling hash (before SipHash) and its position. It stops early and
// returns false when emit does.
func (wn *winnower) run(text []byte, emit func(raw uint64, pos int) bool) bool {
	k, w := wn.k, wn.w
	if len(text) < k {
		return true
	}
	t := &wn.key.table
	rot := uint(k % 64)
	var h uint64
	for i := 0; i < k; i++ {
		h = bits.RotateLeft64(h, 1) ^ t[text[i]]
	}
	q := wn.queue
	head, n := 0, 0 // ring buffer: q[head], ... q[head+n-1] (mod w)
	last := -1      // position last emitted
	for i := 0; ; i++ {
		// drop the front when it left the window [i-w+1, i], before the
		// push, which may need all w slots
		if n > 0 && q[head].pos <= i-w {
			head = (head + 1) % w
			n--
		}
		// push hash h of the k-gram at i, dropping larger or equal ones
		for n > 0 && q[(head+n-1)%w].hash >= h {
			n--
		}
		q[(head+n)%w] = fingerprint{h, i}
		n++
		if i >= w-1 && q[head].pos != last {
			last = q[head].pos
			if !emit(q[head].hash, last) {
				return false
			}
		}
		if i+k >= len(text) {
			break
		}
		h = bits.RotateLeft64(h, 1) ^ bits.RotateLeft64(t[text[i]], int(rot)) ^ t[text[i+k]]
	}
	return true
}

// all calls emit with the raw rolling hash of every k-gram of text.
func (wn *winnower) all(text []byte, emit func(raw uint64)) {
	k := wn.k
	if len(text) < k {
		return
	}
	t := &wn.key.table
	var h uint64
	for i := 0; i < k; i++ {
		h = bits.RotateLeft64(h, 1) ^ t[text[i]]
	}
	for i := 0; ; i++ {
		emit(h)
		if i+k >= len(text) {
			return
		}
		h = bits.RotateLeft64(h, 1) ^ bits.RotateLeft64(t[text[i]], k%64) ^ t[text[i+k]]
	}
}

// stored is the value kept in the index for the rolling hash raw.
func (k *Key) stored(raw uint64) uint64 { return k.fp.Sum64Uint64(raw) }
