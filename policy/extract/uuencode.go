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

// findUUBlocks finds "begin MODE NAME" ... "end" blocks in text.
func findUUBlocks(text string) []uuBlock {
	var blocks []uuBlock
	lastEnd := strings.LastIndex(text, "\nend")
	for from := 0; from < len(text) && len(blocks) < 100; {
		i := strings.Index(text[from:], "begin ")
		if i < 0 {
			break
		}
		at := from + i
		from = at + 6
		if at > lastEnd {
			break // no "end" line follows: no block can be complete
		}
		if at > 0 && text[at-1] != '\n' {
			continue
		}
		data, n, ok := uudecodeBlock([]byte(text[at:]))
		if !ok {
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
	out := make([]byte, 0, len(in)*3/4)
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
