package extract

import "strings"

// Lightweight markup (Markdown, reStructuredText, chat formatting) puts
// emphasis and code marks between the groups of a number:
// "`4546`**8363**_9745_9355" reads as one number once rendered, and the
// raw text still shows every digit to a reader. markupJoined returns the
// lines of s in which a run of such marks sits between two digits, with
// those runs removed, joined by newlines; "" when there is none. The
// engine scans them as a part of their own beside the text, so the
// original text is scanned as written too.
func markupJoined(m *meter, s string) string {
	if !hasMark(s) {
		return ""
	}
	var b strings.Builder
	for line := range strings.Lines(s) {
		if !m.step(len(line)) {
			break
		}
		if j, ok := joinMarks(line); ok {
			b.WriteString(strings.TrimRight(j, "\r\n"))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// hasMark reports whether s has a mark. One vectorised search per mark is
// several times faster than strings.ContainsAny's byte loop on the text
// of a whole attachment, which usually has none.
func hasMark(s string) bool {
	return strings.IndexByte(s, '`') >= 0 || strings.IndexByte(s, '*') >= 0 ||
		strings.IndexByte(s, '_') >= 0 || strings.IndexByte(s, '~') >= 0
}

func isMark(c byte) bool { return c == '`' || c == '*' || c == '_' || c == '~' }

// joinMarks removes from line every run of marks (at most 4) between two
// digits; ok is false when there is none.
func joinMarks(line string) (string, bool) {
	var b strings.Builder
	last, found := 0, false
	for i := 1; i < len(line); i++ {
		if !isMark(line[i]) || !isASCIIDigit(line[i-1]) {
			continue
		}
		j := i
		for j < len(line) && isMark(line[j]) {
			j++
		}
		if j < len(line) && isASCIIDigit(line[j]) && j-i <= 4 {
			if !found {
				b.Grow(len(line))
			}
			b.WriteString(line[last:i])
			last, found = j, true
		}
		i = j - 1
	}
	if !found {
		return "", false
	}
	b.WriteString(line[last:])
	return b.String(), true
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }
