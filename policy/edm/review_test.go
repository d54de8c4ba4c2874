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
