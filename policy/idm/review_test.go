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

// TestReviewMeterInNonASCIIRun: a part of non-ASCII text without one
// ASCII byte (Chinese prose, or a hostile run) is normalised in pieces
// too, so the meter can stop it before the end, with the same result as
// in one go.
func TestReviewMeterInNonASCIIRun(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 22))
	names, texts := confidential(r, 1)
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, names, texts)
	text := strings.Repeat("漢字ß\u0301ﬁÅ", 200000) // about 3 MB, no ASCII
	s := ix.NewScanner()
	s.Reset()
	if s.Text(text, func(int) bool { return false }) {
		t.Fatal("Text = true with a meter that stops")
	}
	if len(s.norm) > 2*stepEvery {
		t.Errorf("%d bytes normalised before the meter was first asked, want about %d", len(s.norm), stepEvery)
	}
	s.Reset()
	s.Text(text, nil)
	if got, want := string(s.norm), Normalize(text); got != want {
		t.Errorf("pieces normalise differently from the whole (len %d, want %d)", len(got), len(want))
	}
}
