package edm

import (
	"errors"
	"math/bits"
)

// xorFilter is an 8-bit xor filter (Graf and Lemire, "Xor Filters: Faster
// and Smaller Than Bloom and Cuckoo Filters", 2020): about 9.84 bits per
// key, a false-positive rate of about 1/256, three memory reads per
// lookup. Its keys are SipHash outputs of the primary values, so the
// filter alone reveals nothing without the dataset key; a hit is then
// confirmed against the stored tags.
type xorFilter struct {
	seed        uint64
	blockLength uint32
	fp          []uint8 // 3 * blockLength fingerprints
}

func mix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

func reduce(h, n uint32) uint32 { return uint32(uint64(h) * uint64(n) >> 32) }

func (f *xorFilter) slots(key uint64) (h uint64, a, b, c uint32) {
	h = mix64(key + f.seed)
	a = reduce(uint32(h), f.blockLength)
	b = reduce(uint32(bits.RotateLeft64(h, 21)), f.blockLength) + f.blockLength
	c = reduce(uint32(bits.RotateLeft64(h, 42)), f.blockLength) + 2*f.blockLength
	return
}

// contains reports whether key may be in the set (always true for a key
// that is).
func (f *xorFilter) contains(key uint64) bool {
	if f.blockLength == 0 {
		return false
	}
	h, a, b, c := f.slots(key)
	return uint8(h^h>>32) == f.fp[a]^f.fp[b]^f.fp[c]
}

// filterSize is the number of fingerprints of a filter of n keys.
func filterSize(n int) uint32 {
	cap := 32 + uint64(n)*123/100
	return uint32(cap/3) * 3
}

// buildXorFilter builds the filter of keys, which must be distinct.
func buildXorFilter(keys []uint64) (*xorFilter, error) {
	size := filterSize(len(keys))
	f := &xorFilter{blockLength: size / 3, fp: make([]uint8, size)}
	type slot struct {
		mask  uint64
		count uint32
	}
	sets := make([]slot, size)
	queue := make([]uint32, 0, size)
	type peeled struct {
		key uint64
		at  uint32
	}
	stack := make([]peeled, 0, len(keys))
	rng := uint64(0x9e3779b97f4a7c15)
	for attempt := 0; attempt < 100; attempt++ {
		rng += 0x9e3779b97f4a7c15
		f.seed = mix64(rng)
		clear(sets)
		for _, k := range keys {
			_, a, b, c := f.slots(k)
			sets[a].mask ^= k
			sets[a].count++
			sets[b].mask ^= k
			sets[b].count++
			sets[c].mask ^= k
			sets[c].count++
		}
		queue = queue[:0]
		for i := range sets {
			if sets[i].count == 1 {
				queue = append(queue, uint32(i))
			}
		}
		stack = stack[:0]
		for len(queue) > 0 {
			i := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if sets[i].count != 1 {
				continue
			}
			k := sets[i].mask
			stack = append(stack, peeled{k, i})
			_, a, b, c := f.slots(k)
			for _, j := range [3]uint32{a, b, c} {
				sets[j].mask ^= k
				sets[j].count--
				if sets[j].count == 1 {
					queue = append(queue, j)
				}
			}
		}
		if len(stack) != len(keys) {
			continue // a cycle: try another seed
		}
		clear(f.fp)
		for i := len(stack) - 1; i >= 0; i-- {
			p := stack[i]
			h, a, b, c := f.slots(p.key)
			v := uint8(h ^ h>>32)
			f.fp[p.at] = v ^ f.fp[a] ^ f.fp[b] ^ f.fp[c] ^ f.fp[p.at]
		}
		return f, nil
	}
	return nil, errors.New("edm: cannot build the filter (duplicate keys?)")
}
