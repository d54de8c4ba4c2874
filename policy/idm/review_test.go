package idm

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestReviewRunsBounded: a message that repeats an indexed passage many
// times hits every fingerprint at a new distance each time; the chains
// of fingerprints kept for the passage length must be those still open
// (within w of the position), not one per hit of the whole message.
func TestReviewRunsBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 21))
	names, texts := confidential(r, 1)
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, names, texts)
	excerpt := texts[0][:min(len(texts[0]), 600)]
	runs := func(n int) int {
		s := ix.NewScanner()
		s.Reset()
		s.Text(strings.Repeat(excerpt+" ", n), nil)
		if h := s.Hits(); len(h) != 1 || h[0].Passage < len(excerpt)/2 {
			t.Fatalf("hits %+v, want the document with a long passage", h)
		}
		return len(s.runs)
	}
	r1, r8 := runs(200), runs(1600)
	t.Logf("runs kept: %d at n, %d at 8n", r1, r8)
	if r8 > 2*r1+64 {
		t.Errorf("runs kept grow with the message: %d at n, %d at 8n", r1, r8)
	}
}
