package edm

import (
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/extract"
)

// TestReviewSpacedDigitsFound: a reader sees an SSN spelled one digit a
// word ("3 8 4 1 1 5 5 7 1") or with spaced dashes ("384 - 11 - 5571");
// the anchor pass must read both, as it reads "384-11-5571".
func TestReviewSpacedDigitsFound(t *testing.T) {
	ps := genPeople(13, 100)
	key, data := buildTest(t, ps)
	m := matcherFor(t, key, data, Options{MinColumns: 2})
	p := ps[0]
	name := title(p.first) + " " + title(p.last)
	for lbl, ssn := range map[string]string{
		"one digit a word": strings.Join(strings.Split(p.ssn, ""), " "),
		"no-break spaces":  strings.Join(strings.Split(p.ssn, ""), "\u00a0"),
		"spaced dashes":    p.ssn[:3] + " - " + p.ssn[3:5] + " - " + p.ssn[5:],
		"spaced slashes":   p.ssn[:3] + " / " + p.ssn[3:5] + " / " + p.ssn[5:],
	} {
		got, ok := m.Match(extract.Normalize(ssn+" "+name), dataset.Part{}, &countMeter{}, nil)
		if !ok || len(got) != 1 {
			t.Errorf("%s: %d matches (ok %v), want 1", lbl, len(got), ok)
		}
	}
	// Another row's name next to the spaced SSN still matches nothing.
	other := title(ps[1].first) + " " + title(ps[1].last)
	if got, _ := m.Match(strings.Join(strings.Split(p.ssn, ""), " ")+" "+other, dataset.Part{}, nil, nil); len(got) != 0 {
		t.Errorf("spaced SSN with another row's name: %d matches", len(got))
	}
}

// TestReviewMatchSpanCoversRow: a match's span is what a masked subject
// replaces with the evidence; it must cover every value of the row found
// (names, a second anchor), not the anchor alone, or the rest of the
// row reaches the incident in the clear.
func TestReviewMatchSpanCoversRow(t *testing.T) {
	ps := genPeople(13, 100)
	key, data := buildTest(t, ps)
	m := matcherFor(t, key, data, Options{MinColumns: 3})
	m2 := matcherFor(t, key, data, Options{MinColumns: 2})
	p := ps[0]
	name := title(p.first) + " " + title(p.last)
	for _, text := range []string{
		"Re: " + name + " " + p.ssn + " " + p.email,
		"Re: " + name + " " + p.ssn + " " + p.email + " thanks",
		"Re: " + p.ssn + " thanks " + name + " and " + p.acct,
		"Re: " + p.email + ", " + p.ssn + ", " + name,
	} {
		got, _ := m.Match(text, dataset.Part{}, nil, nil)
		if strings.HasSuffix(text, p.email) {
			got, _ = m2.Match(text, dataset.Part{}, nil, nil) // the anchors are enough
		}
		if len(got) != 1 {
			t.Fatalf("%q: %d matches, want 1", text, len(got))
		}
		span := text[got[0].Start:got[0].End]
		for _, v := range []string{p.ssn, p.email, title(p.first), title(p.last), p.acct} {
			if strings.Contains(text, v) && !strings.Contains(span, v) {
				t.Errorf("%q: span %q leaves %q out", text, span, v)
			}
		}
	}
}
