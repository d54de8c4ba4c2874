// Package siphash is SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
// short-input PRF", 2012): the keyed hash the dataset indexes (EDM, IDM)
// use for their in-memory filters and fingerprints. Without the key its
// outputs say nothing about the values hashed.
package siphash

import (
	"encoding/binary"
	"math/bits"
)

// Key is a 128-bit SipHash key.
type Key struct{ K0, K1 uint64 }

// NewKey reads a key from the first 16 bytes of b (little endian).
func NewKey(b []byte) Key {
	return Key{binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])}
}

// Sum64 is SipHash-2-4 of p.
func (k Key) Sum64(p []byte) uint64 {
	v0, v1, v2, v3 := k.init()
	n := len(p)
	for len(p) >= 8 {
		m := binary.LittleEndian.Uint64(p)
		v3 ^= m
		v0, v1, v2, v3 = round(v0, v1, v2, v3)
		v0, v1, v2, v3 = round(v0, v1, v2, v3)
		v0 ^= m
		p = p[8:]
	}
	m := uint64(n) << 56
	for i := len(p) - 1; i >= 0; i-- {
		m |= uint64(p[i]) << (8 * uint(i))
	}
	return finish(v0, v1, v2, v3, m)
}

// Sum64Uint64 is SipHash-2-4 of the 8 little-endian bytes of m, without
// building them (the fingerprint hot path).
func (k Key) Sum64Uint64(m uint64) uint64 {
	v0, v1, v2, v3 := k.init()
	v3 ^= m
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	v0 ^= m
	return finish(v0, v1, v2, v3, uint64(8)<<56)
}

func (k Key) init() (v0, v1, v2, v3 uint64) {
	return k.K0 ^ 0x736f6d6570736575, k.K1 ^ 0x646f72616e646f6d, k.K0 ^ 0x6c7967656e657261, k.K1 ^ 0x7465646279746573
}

// finish absorbs the last block b and runs the finalisation rounds.
func finish(v0, v1, v2, v3, b uint64) uint64 {
	v3 ^= b
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	v0, v1, v2, v3 = round(v0, v1, v2, v3)
	v0 ^= b
	v2 ^= 0xff
	for range 4 {
		v0, v1, v2, v3 = round(v0, v1, v2, v3)
	}
	return v0 ^ v1 ^ v2 ^ v3
}

func round(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}
