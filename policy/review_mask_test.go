package policy

import (
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// TestReviewMaskedSubjectOverlap: two detections whose spans overlap
// (an SSN, and a dataset row that starts at the same SSN and goes on
// to the name) are masked as their union: the second one was skipped
// whole, and the name after the SSN stayed in the clear.
func TestReviewMaskedSubjectOverlap(t *testing.T) {
	subject := "Re: 123-45-6789 Mary Smith, as asked"
	ssn := strings.Index(subject, "123")
	name := strings.Index(subject, "Smith") + len("Smith")
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		ms := []detect.Match{
			{Detector: "ssn", Evidence: "[ssn]", Start: ssn, End: ssn + 11},
			{Detector: "customers", Evidence: "[customers row]", Start: ssn, End: name},
		}
		f := &facts{parts: []extract.Part{{Kind: extract.KindHeader, Location: "header:Subject", Text: subject}}}
		for _, i := range order {
			f.hits = append(f.hits, hit{Match: ms[i]})
		}
		got := f.maskedSubject()
		if strings.Contains(got, "Mary") || strings.Contains(got, "6789") || !strings.HasSuffix(got, ", as asked") {
			t.Errorf("order %v: masked subject %q", order, got)
		}
	}
}
