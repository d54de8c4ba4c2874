package idm

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/maildlp/maildlp/internal/corpus"
	"github.com/maildlp/maildlp/policy/extract"
)

// scanMessage extracts a message and matches every part.
func scanMessage(t *testing.T, ix *Index, msg []byte) map[int]Hit {
	t.Helper()
	res, err := extract.Extract(context.Background(), bytes.NewReader(msg), extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, p := range res.Parts {
		parts = append(parts, p.Text)
	}
	return scan(ix, parts...)
}

// TestIssue13Formats: a document indexed from its text is found in every
// envelope the extractor reads: encodings, HTML, office documents, PDF,
// and archives (ZIP, gzip, tar), whole and as a quarter excerpt.
func TestIssue13Formats(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 4))
	names, texts := confidential(r, 5)
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, names, texts)
	for _, env := range corpus.Envelopes() {
		for _, share := range []float64{1, 0.25} {
			body := texts[2]
			if share < 1 {
				body = excerpt(r, body, share)
			}
			d := corpus.Doc{Subject: "fyi", Body: body, Name: "notes"}
			h := scanMessage(t, ix, d.Message(env))[2]
			if !testRule.Match(h) {
				t.Errorf("%s, %.0f%% of the document: not found (%+v)", env, 100*share, h)
			}
		}
	}
}

// TestIssue13FileText: a file indexed through the extractor is found when
// its text is mailed in another format (a PDF attachment).
func TestIssue13FileText(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 5))
	text := genText(r, 700)
	d := corpus.Doc{Subject: "x", Body: text, Name: "plan"}
	got, uns, err := FileText(context.Background(), "plan.txt", []byte(text), extract.DefaultLimits())
	if err != nil || len(uns) != 0 {
		t.Fatalf("FileText = %v, %v", uns, err)
	}
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, []string{"plan.txt"}, []string{got})
	h := scanMessage(t, ix, d.Message(corpus.PDF))[0]
	if !h.Exact && h.Containment < 0.9 {
		t.Fatalf("PDF copy of an indexed text file: %+v", h)
	}
}
