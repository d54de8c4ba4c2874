package idm

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/corpus"
)

// testRule is the rule the accuracy tests hold the matcher to, the one
// docs/idm.md recommends.
var testRule = Rule{Exact: true, MinContainment: 0.1, MinPassage: 200}

// confidential generates n documents of 600 to 1,400 words.
func confidential(r *rand.Rand, n int) (names, texts []string) {
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("doc%03d.txt", i))
		texts = append(texts, genText(r, 600+r.IntN(800)))
	}
	return names, texts
}

// unrelated is filler text around an excerpt: mail prose from the clean corpus.
func unrelated(r *rand.Rand) string {
	docs := corpus.CleanDocs(20)
	return docs[r.IntN(len(docs))].Doc.Text()
}

// TestIssue13VerbatimPassages: every passage of at least t normalised
// characters pasted into unrelated text is found (a fingerprint of its
// document matches), and its passage length is at least k.
func TestIssue13VerbatimPassages(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 1))
	names, texts := confidential(r, 30)
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, names, texts)
	tt := ix.Threshold()
	for trial := 0; trial < 500; trial++ {
		d := r.IntN(len(texts))
		n := Normalize(texts[d])
		l := tt + r.IntN(3*tt)
		start := r.IntN(len(n) - l)
		body := unrelated(r) + "\n\n" + strings.ToUpper(n[start:start+l]) + "\n\n" + unrelated(r)
		h, ok := scan(ix, body)[d]
		if !ok || h.Matched == 0 || h.Passage < ix.k {
			t.Fatalf("passage of %d chars of doc %d not found: %+v", l, d, h)
		}
	}
}

// TestIssue13Recall holds the rule to recall >= 0.95 for excerpts of 25 %
// or more, copies with up to 5 % of their words replaced, and quoted,
// re-wrapped copies, each inside unrelated mail text.
func TestIssue13Recall(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 2))
	names, texts := confidential(r, 60)
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, names, texts)
	cases := []struct {
		name string
		make func(string) string
		want float64
	}{
		{"excerpt 25%", func(s string) string { return excerpt(r, s, 0.25) }, 0.95},
		{"excerpt 50%", func(s string) string { return excerpt(r, s, 0.5) }, 0.95},
		{"edit 2%", func(s string) string { return editWords(r, s, 0.02) }, 0.95},
		{"edit 5%", func(s string) string { return editWords(r, s, 0.05) }, 0.95},
		{"quoted rewrapped", func(s string) string { return quoteWrap(s) }, 0.95},
		// both at once: a quarter of the document cut into runs of 20
		// words on average
		{"excerpt 25% edit 5%", func(s string) string { return editWords(r, excerpt(r, s, 0.25), 0.05) }, 0.95},
	}
	for _, c := range cases {
		found, n := 0, 0
		minC, minP := 1.0, 1<<30
		for d := range texts {
			for rep := 0; rep < 3; rep++ {
				n++
				h := scan(ix, unrelated(r)+"\n"+c.make(texts[d])+"\n"+unrelated(r))[d]
				if testRule.Match(h) {
					found++
				}
				minC, minP = min(minC, h.Containment), min(minP, h.Passage)
			}
		}
		recall := float64(found) / float64(n)
		t.Logf("%-22s recall %.3f (%d/%d), lowest containment %.2f, shortest passage %d", c.name, recall, found, n, minC, minP)
		if recall < c.want {
			t.Errorf("%s: recall %.3f, want >= %.2f", c.name, recall, c.want)
		}
	}
}

// TestIssue13NoFalsePositives: clean mail, documents of the same template
// as indexed ones, and documents sharing boilerplate (given as background
// or shared by more than MaxDocs indexed documents) match nothing.
func TestIssue13NoFalsePositives(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 3))
	names, texts := confidential(r, 40)

	// a template: fixed clauses around per-document content
	clauses := []string{genText(r, 120), genText(r, 150), genText(r, 90)}
	templated := func() string {
		return clauses[0] + "\n" + genText(r, 60) + "\n" + clauses[1] + "\n" + genText(r, 40) + "\n" + clauses[2]
	}
	for i := 0; i < 20; i++ {
		names = append(names, fmt.Sprintf("contract%02d.txt", i))
		texts = append(texts, templated())
	}
	// a disclaimer in two documents, known from the background corpus
	disclaimer := genText(r, 150)
	for i := 0; i < 2; i++ {
		names = append(names, fmt.Sprintf("memo%d.txt", i))
		texts = append(texts, genText(r, 300)+"\n"+disclaimer)
	}
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, names, texts, "Footer.\n"+disclaimer)

	check := func(what, text string) {
		t.Helper()
		for _, h := range scan(ix, text) {
			if testRule.Match(h) {
				t.Fatalf("%s matched %s: %+v", what, names[h.Doc], h)
			}
		}
	}
	for i, d := range corpus.CleanDocs(2000) {
		check(fmt.Sprintf("clean message %d", i), d.Doc.Text())
	}
	for _, d := range corpus.BulkDocs() {
		check("bulk clean message "+d.Name, d.Doc.Text())
	}
	for i := 0; i < 200; i++ {
		check("same-template document", unrelated(r)+"\n"+templated())
	}
	check("disclaimer", unrelated(r)+"\n"+disclaimer)
	// and the templated documents' own content is still found
	h := scan(ix, texts[45])[45]
	if !testRule.Match(h) {
		t.Fatalf("templated document itself not found: %+v", h)
	}
}
