package siphash

import "testing"

// TestVectors: SipHash-2-4 against the reference vectors of the SipHash
// paper (key 00..0f, messages 00..len-1), both entry points.
func TestVectors(t *testing.T) {
	var kb [16]byte
	for i := range kb {
		kb[i] = byte(i)
	}
	k := NewKey(kb[:])
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = byte(i)
	}
	for _, c := range []struct {
		n    int
		want uint64
	}{
		{0, 0x726fdb47dd0e0e31},
		{1, 0x74f839c593dc67fd},
		{8, 0x93f5f5799a932462},
		{15, 0xa129ca6149be45e5},
		{63, 0x958a324ceb064572},
	} {
		if got := k.Sum64(msg[:c.n]); got != c.want {
			t.Errorf("SipHash-2-4 of %d bytes = %#x, want %#x", c.n, got, c.want)
		}
	}
	if got, want := k.Sum64Uint64(0x0706050403020100), uint64(0x93f5f5799a932462); got != want {
		t.Errorf("Sum64Uint64 = %#x, want %#x", got, want)
	}
}

func FuzzSum64Agree(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint64(3))
	f.Fuzz(func(t *testing.T, k0, k1, m uint64) {
		k := Key{k0, k1}
		var b [8]byte
		for i := range b {
			b[i] = byte(m >> (8 * i))
		}
		if k.Sum64(b[:]) != k.Sum64Uint64(m) {
			t.Fatal("the two entry points disagree")
		}
	})
}
