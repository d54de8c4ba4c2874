package extract

import (
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

func TestRedactName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"q3.xlsx", "q3.xlsx"},
		{"report 2026.pdf", "report 2026.pdf"},
		{"4532015112830366.txt", "################.txt"},
		{"SSN 536-22-1937.txt", "SSN 536-22-1937.txt"},
		{"card 4532 0151 1283 0366.txt", "card 4532 0151 1283 0366.txt"},
		{"Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4MTcwODM4ODM3NX0.txt", "Bearer eyJh….eyJz….txt"},
		{"word/embeddings/Microsoft_Excel_Worksheet.xlsx", "word/embeddings/Microsoft_Excel_Worksheet.xlsx"},
		{"aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY.txt", "aws_secret_access_key = wJal….txt"},
		{strings.Repeat("a ", 100), strings.Repeat("a ", 40) + "…"},
	} {
		if got := redactName(tc.in); got != tc.want {
			t.Errorf("redactName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestIssue7NamesInLocationsMasked: a value in an attachment or member
// name is found in the name's text, and the location does not repeat it.
func TestIssue7NamesInLocationsMasked(t *testing.T) {
	card := "4532015112830366"
	msg := testutil.NewMessage().Text("hi").
		Attach(card+".txt", "text/plain", []byte("notes\n")).
		Attach("a.zip", "application/zip", testutil.Zip(testutil.File{Name: card + ".csv", Data: []byte("x,y\n")})).Bytes()
	res := run(t, msg, Limits{})
	found := false
	for _, p := range res.Parts {
		if strings.Contains(p.Location, card) {
			t.Errorf("location %q repeats the value", p.Location)
		}
		if strings.Contains(p.Text, card) {
			found = true
		}
	}
	if !found {
		t.Errorf("the name's text was not scanned:\n%s", dump(res))
	}
}
