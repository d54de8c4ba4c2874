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

// findUUBlocks finds "begin MODE NAME" ... "end" blocks in text. A begin
// line is checked before any decoding, and a block decoded to the end of
// the text without its "end" line ends the search (no later block can
// have one), so each byte is decoded at most once; the work is counted
// on m.
func findUUBlocks(text string, m *meter) []uuBlock {
	var blocks []uuBlock
	stop := 0         // end of the first "end" line after the current block
	m.step(len(text)) // the search for the last end line
	lastEnd := strings.LastIndex(text, "\nend")
	for from := 0; from < len(text) && len(blocks) < 100; {
		i := strings.Index(text[from:], "begin ")
		if i < 0 {
			m.step(len(text) - from)
			break
		}
		at := from + i
		from = at + 6
		if !m.step(i+6) || at > lastEnd {
			break // no "end" line follows: no block can be complete
		}
		if at > 0 && text[at-1] != '\n' {
			continue
		}
		line := text[at:]
		if nl := strings.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl]
		}
		m.step(len(line))
		if f := strings.Fields(line); len(f) < 3 || !isOctal([]byte(f[1])) {
			continue
		}
		// Decode (and copy) only up to the first "end" line after the
		// begin line; remembered while later blocks start before it.
		if stop <= at {
			stop = uuEndLine(text, at, m)
		}
		if stop < 0 {
			break // no end line follows: no block can be complete
		}
		data, n, ok := uudecodeBlock([]byte(text[at:stop]))
		m.step(n)
		if !ok {
			continue
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

// uuEndLine returns the end of the first line after from that reads "end",
// or -1.
func uuEndLine(text string, from int, m *meter) int {
	for p := from; ; {
		k := strings.Index(text[p:], "\nend")
		if k < 0 {
			m.step(len(text) - p)
			return -1
		}
		ls := p + k + 1
		le := len(text)
		if nl := strings.IndexByte(text[ls:], '\n'); nl >= 0 {
			le = ls + nl + 1
		}
		m.step(k + le - ls)
		if strings.TrimSpace(text[ls:le]) == "end" {
			return le
		}
		p = ls
	}
}

// uudecodeBlock decodes a uuencoded block that starts with its "begin"
// line. It returns the data, the number of bytes of in consumed, and
// whether a well-formed block was found.
func uudecodeBlock(in []byte) ([]byte, int, bool) {
	nl := bytes.IndexByte(in, '\n')
	if nl < 0 {
		return nil, 0, false
	}
	begin := bytes.Fields(in[:nl])
	if len(begin) < 3 || string(begin[0]) != "begin" || !isOctal(begin[1]) {
		return nil, 0, false
	}
	var out []byte // grows with the block, not sized by the text after it
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
	return nil, 0, false
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
