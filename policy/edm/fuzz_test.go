package edm

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/maildlp/maildlp/policy/dataset"
)

// countMeter counts work and never stops.
type countMeter struct{ work int }

func (c *countMeter) Step(n int) bool { c.work += n; return true }

// FuzzIndexParse: any bytes are an index or an error, never a panic; an
// index that parses can be matched against text.
func FuzzIndexParse(f *testing.F) {
	key, data := buildTest(f, genPeople(11, 20))
	f.Add(data)
	f.Add(data[:200])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Parse(b, nil)
		if err != nil {
			return
		}
		x.key = key
		m, err := NewMatcher("f", x, Options{MinColumns: 1})
		if err != nil {
			return
		}
		m.Match("ssn 123-45-6789 john smith a@b.c AC1234567", dataset.Part{}, nil, nil)
	})
}

// FuzzMatch: the matcher on any text never panics, never reports a match
// whose span is outside the text, and its work is linear in the text.
func FuzzMatch(f *testing.F) {
	ps := genPeople(12, 50)
	key, data := buildTest(f, ps)
	m := matcherFor(f, key, data, Options{MinColumns: 2})
	for _, l := range layouts {
		f.Add(l(ps[0], nil))
	}
	f.Add("a@b@c@d@" + ps[1].email + " 1 2 3 4 5 6 7 8 9 0 1 2 3")
	f.Fuzz(func(t *testing.T, text string) {
		c := &countMeter{}
		ms, ok := m.Match(text, dataset.Part{}, c, nil)
		if !ok {
			t.Fatal("stopped without a deadline")
		}
		for _, x := range ms {
			if x.Start < 0 || x.End > len(text) || x.Start > x.End {
				t.Fatalf("span %d..%d outside %d bytes", x.Start, x.End, len(text))
			}
			if utf8.ValidString(text) && bytes.Contains([]byte(x.Evidence), []byte(text[x.Start:x.End])) && x.End-x.Start > 3 {
				t.Fatalf("evidence %q shows the value", x.Evidence)
			}
		}
		// Each byte: the pass, a bounded number of spans, and the
		// windows of the anchors around it (TestIssue13EDMLinearWork
		// checks the growth).
		if limit := 4096 + len(text)*4*(2*300+2*maxTableLine); c.work > limit {
			t.Fatalf("work %d for %d bytes", c.work, len(text))
		}
	})
}
