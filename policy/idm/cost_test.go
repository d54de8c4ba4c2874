package idm

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestIssue13MatchCostLinear: the work of a scan grows linearly with
// hostile texts: a document repeated (every fingerprint a hit), one
// character repeated (every k-gram equal, so every position selected),
// punctuation only, non-ASCII only. Work is counted, not timed: at 8n it
// is at most 8.5 times the work at n, and at most 16 units per byte.
func TestIssue13MatchCostLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 9))
	names, texts := confidential(r, 3)
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, append(names, "as.txt"), append(texts, strings.Repeat("a", 2000)))
	gens := map[string]func(n int) string{
		"repeated document": func(n int) string { return strings.Repeat(texts[0]+" ", n/len(texts[0])+1)[:n] },
		"one character":     func(n int) string { return strings.Repeat("a", n) },
		"punctuation":       func(n int) string { return strings.Repeat("-.!", n/3) },
		"non-ASCII":         func(n int) string { return strings.Repeat("ß\u0301ﬁ", n/7) },
	}
	for name, gen := range gens {
		work := func(n int) int64 {
			s := ix.NewScanner()
			s.Reset()
			s.Text(gen(n), nil)
			return s.Work()
		}
		n := 64 << 10
		w1, w8 := work(n), work(8*n)
		if w8 > w1*85/10 || w8 > int64(16*8*n) {
			t.Errorf("%s: work %d at %d bytes, %d at 8x", name, w1, n, w8)
		}
	}
}

// TestIssue13MatchStopsAtDeadline: when the meter says stop, Text
// returns false before the end of a long text.
func TestIssue13MatchStopsAtDeadline(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 10))
	names, texts := confidential(r, 2)
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, names, texts)
	s := ix.NewScanner()
	s.Reset()
	calls, total := 0, 0
	text := strings.Repeat(texts[0]+"\n", 200)
	ok := s.Text(text, func(n int) bool { calls++; total += n; return calls < 3 })
	if ok || calls != 3 || total >= 2*len(text) {
		t.Fatalf("Text = %v after %d meter calls (%d units), want false at the third", ok, calls, total)
	}
	s.Reset()
	total = 0
	if !s.Text(text, func(n int) bool { total += n; return true }) || total < len(text) {
		t.Fatalf("metered work %d for %d bytes", total, len(text))
	}
}
