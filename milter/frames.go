package milter

import "encoding/binary"

// frames follows the milter packet framing of a byte stream from the MTA
// (4-byte big-endian length, then that many bytes: a command and its
// data) across reads, looking at each byte once.
type frames struct {
	hdr  [5]byte
	nh   int    // header bytes of the current packet seen
	left uint32 // data bytes of the current packet still to come
	last byte   // command of the last whole packet
}

// feed follows p and reports whether it ends exactly at the end of a
// packet that the MTA waits for an answer to before it sends anything
// else: option negotiation, MAIL, RCPT (maildlp never asks the MTA to
// skip those replies), end of body, or QUIT (nothing follows it).
func (f *frames) feed(p []byte) bool {
	for len(p) > 0 {
		if f.left > 0 {
			k := min(uint32(len(p)), f.left)
			f.left -= k
			p = p[k:]
			continue
		}
		c := copy(f.hdr[f.nh:], p)
		f.nh += c
		p = p[c:]
		if f.nh < len(f.hdr) {
			continue
		}
		f.nh = 0
		f.last = f.hdr[4]
		if n := binary.BigEndian.Uint32(f.hdr[:4]); n > 1 {
			f.left = n - 1
		}
	}
	if f.nh != 0 || f.left != 0 {
		return false
	}
	switch f.last {
	case 'O', 'M', 'R', 'E', 'Q':
		return true
	}
	return false
}
