package extract

import (
	"bytes"
	"strings"
)

// uuBlock is one uuencoded file found in a text body.
type uuBlock struct {
	name       string
	data       []byte
	start, end int // byte range of the block in the text
}

// findUUBlocks finds "begin MODE NAME" ... "end" blocks in text, in time
// linear in its length (m counts the bytes looked at): a "begin" line
// whose block has no "end" line reads to the end of text, and then no
// later one can have one either.
func findUUBlocks(text string, m *meter) []uuBlock {
	var blocks []uuBlock
	m.step(len(text)) // the search for the last "end"
	lastEnd := strings.LastIndex(text, "\nend")
	tb := []byte(text) // once: a copy per "begin" would be quadratic
	for from := 0; from < len(text) && len(blocks) < 100; {
		i := strings.Index(text[from:], "begin ")
		if i < 0 {
			m.step(len(text) - from)
			break
		}
		at := from + i
		m.step(i + 6)
		from = at + 6
		if at > lastEnd {
			break // no "end" line follows: no block can be complete
		}
		if at > 0 && text[at-1] != '\n' {
			continue
		}
		data, n, ok := uudecodeBlock(tb[at:])
		m.step(n)
		if !ok {
			if n == len(tb)-at {
				break // read to the end without an "end" line
			}
			continue
		}
		line := text[at:]
		if nl := strings.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl]
		}
		fields := strings.Fields(line)
		name := ""
		if len(fields) >= 3 {
			name = strings.Join(fields[2:], " ")
		}
		blocks = append(blocks, uuBlock{name: name, data: data, start: at, end: at + n})
		from = at + n
	}
	return blocks
}

// uudecodeBlock decodes a uuencoded block that starts with its "begin"
// line. It returns the data, the number of bytes of in consumed (or
// looked at, when it fails), and whether a well-formed block was found.
func uudecodeBlock(in []byte) ([]byte, int, bool) {
	nl := bytes.IndexByte(in, '\n')
	if nl < 0 {
		return nil, len(in), false
	}
	begin := bytes.Fields(in[:nl])
	if len(begin) < 3 || string(begin[0]) != "begin" || !isOctal(begin[1]) {
		return nil, nl + 1, false
	}
	// Grown as decoded: the rest of in may be far longer than the block.
	var out []byte
	pos := nl + 1
	for pos < len(in) {
		e := bytes.IndexByte(in[pos:], '\n')
		next := len(in)
		if e >= 0 {
			next = pos + e + 1
		}
		line := bytes.TrimRight(in[pos:next], "\r\n")
		pos = next
		if string(bytes.TrimSpace(line)) == "end" {
			return out, pos, true
		}
		if len(line) == 0 {
			continue
		}
		n := int((line[0] - ' ') & 63)
		if n == 0 {
			continue
		}
		body := line[1:]
		var chunk [3]byte
		for got := 0; got < n; {
			var q [4]byte
			for k := range q {
				if len(body) > k {
					q[k] = (body[k] - ' ') & 63
				}
			}
			chunk[0] = q[0]<<2 | q[1]>>4
			chunk[1] = q[1]<<4 | q[2]>>2
			chunk[2] = q[2]<<6 | q[3]
			take := min(3, n-got)
			out = append(out, chunk[:take]...)
			got += take
			if len(body) >= 4 {
				body = body[4:]
			} else {
				body = nil
			}
		}
	}
	return nil, len(in), false
}

func isOctal(b []byte) bool {
	if len(b) == 0 || len(b) > 4 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}
