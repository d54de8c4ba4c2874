package edm

import (
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/dataset"
)

// TestIssue13EDMLinearWork: hostile texts cost work proportional to their
// length: digit chains of one-digit words (every span tried), runs of
// '@', long words, and many copies of one indexed row (every anchor
// evaluates its window).
func TestIssue13EDMLinearWork(t *testing.T) {
	ps := genPeople(13, 100)
	key, data := buildTest(t, ps)
	m := matcherFor(t, key, data, Options{MinColumns: 3})
	p := ps[0]
	for name, gen := range map[string]func(n int) string{
		"one-digit words":   func(n int) string { return strings.Repeat("1 2-3.4/5 ", n) },
		"at signs":          func(n int) string { return strings.Repeat("a@", n*5) },
		"long digit run":    func(n int) string { return strings.Repeat("1234567890", n) },
		"letters and dots":  func(n int) string { return strings.Repeat("AB.CD-1 ", n) },
		"one row repeated":  func(n int) string { return strings.Repeat(p.ssn+" "+p.acct+" "+p.email+" ", n/4+1) },
		"anchors no names":  func(n int) string { return strings.Repeat("ssn "+p.ssn+" and more words ", n/4+1) },
		"table of anchors":  func(n int) string { return strings.Repeat(p.ssn+"\t"+p.first+"\tx\n", n/3+1) },
		"email local parts": func(n int) string { return strings.Repeat("a.b.c.d.e.f.g.h", n) + "@x.com" },
	} {
		work := func(n int) int {
			c := &countMeter{}
			m.Match(gen(n), dataset.Part{}, c, nil)
			return c.work
		}
		w1, w8 := work(2000), work(16000)
		t.Logf("%-18s work %d at n, %d at 8n", name, w1, w8)
		if w8 > 10*w1+1000 {
			t.Errorf("%s: work %d at n, %d at 8n: not linear", name, w1, w8)
		}
	}
}
