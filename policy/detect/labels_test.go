package detect

import (
	"strings"
	"testing"
)

// TestIssue8OwnColumnHeaderWins: a value's own column header that names
// numbers of another kind ("Part no.", "Badge #") wins over an identifier
// keyword in the prose or in another column's header.
func TestIssue8OwnColumnHeaderWins(t *testing.T) {
	s := mustSet(t, "us_ssn", "credit_card")
	rows := []string{"222582831", "165374363", "404356813"}
	for _, text := range []string{
		"HR note: SSN requests go through the portal.\n\n| Part no. | Qty |\n|---|---|\n| " + strings.Join(rows, " | 4 |\n| ") + " | 4 |\n",
		"| Employee | SSN on file | Badge # |\n|---|---|---|\n| E1 | yes | " + strings.Join(rows, " |\n| E1 | yes | ") + " |\n",
		"Employee ID;SSN on file\n" + strings.Join(rows, ";yes\n") + ";yes\n",
	} {
		for _, m := range s.Scan(text, nil) {
			if m.Confidence >= Medium {
				t.Errorf("Scan(%q): %s %q %v (%v)", text, m.Detector, text[m.Start:m.End], m.Confidence, m.Why)
			}
		}
	}
	// A header with the identifier's keyword still raises its column.
	text := "Name;SSN no.\nA;" + rows[0] + "\nB;" + rows[1] + "\n"
	for _, m := range find(s.Scan(text, nil), "us_ssn") {
		if m.Confidence != High {
			t.Errorf("Scan(%q): %q %v, want high", text, text[m.Start:m.End], m.Confidence)
		}
	}
	for h, want := range map[string]bool{"Part no.": true, "Badge #": true, "Employee ID": true, "order_nr": true,
		"SSN": false, "no.": false, "ID": false, "Number": false, "Amount": false} {
		if got := headerLabel(h); got != want {
			t.Errorf("headerLabel(%q) = %v, want %v", h, got, want)
		}
	}
}

// TestIssue8IBANCheckDigitsRange: check digits 00, 01 and 99 are never
// issued; a string that has them and passes MOD 97 by chance is no IBAN,
// and is consumed whole.
func TestIssue8IBANCheckDigitsRange(t *testing.T) {
	s := mustSet(t, "iban", "credit_card")
	for _, text := range []string{"old ref DE00 1245 9116 2717 9981 45 x", "old ref DE00124591162717998145 x"} {
		if ms := s.Scan(text, nil); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want none", text, ms)
		}
	}
	if !validIBAN([]byte("DE89370400440532013000")) {
		t.Error("a valid IBAN is rejected")
	}
}

// TestIssue8MembershipLabel: a membership or loyalty card number is
// labelled as such.
func TestIssue8MembershipLabel(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("449348085395169")
	text := "Your membership card numbers:\nMembership no. " + visa + "\n"
	if m := one(t, s, "credit_card", text); m.Confidence != Low || m.Why.Demoted != DemotedLabel {
		t.Errorf("Scan(%q) = %v %v, want low, labelled", text, m.Confidence, m.Why)
	}
}
