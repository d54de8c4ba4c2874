package detect

import (
	"fmt"
	"strings"
	"testing"
)

// fours writes the digits of d in groups of four joined by sep.
func fours(d, sep string) string {
	var b strings.Builder
	for k := 0; k < len(d); k += 4 {
		if k > 0 {
			b.WriteString(sep)
		}
		b.WriteString(d[k:min(k+4, len(d))])
	}
	return b.String()
}

// TestIssue7CardListOneLine: card numbers in fours listed on one line with
// one separator are each found; a run that does not divide exactly into
// valid cards yields none.
func TestIssue7CardListOneLine(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	mc := luhnComplete("550000000000000")
	disc := luhnComplete("601100099990001")
	for _, sep := range []string{" ", "  ", "\t", "-", " - "} {
		text := "cards " + fours(visa+mc+disc, sep) + " ok"
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 3 {
			t.Errorf("Scan(%q) = %d cards, want 3", text, len(ms))
		} else {
			for _, m := range ms {
				if m.Confidence < Medium {
					t.Errorf("Scan(%q): %s %v, want medium", text, text[m.Start:m.End], m.Confidence)
				}
			}
		}
	}
	bad := luhnComplete("453201511283037")
	bad = bad[:15] + string('0'+(bad[15]-'0'+1)%10)
	for _, text := range []string{
		// One card and a leftover partial group, or a tracking number.
		"ref " + fours(visa+"1234", " ") + " x",
		"ref " + fours(visa+mc+"12", " ") + " x",
		"ref " + fours(visa+mc, " ") + " 12 x",
		"parcel " + fours("9400111899223197428490", " ") + " x",
		"parcel " + fours("12345678901234567890", " ") + " x",
		// One invalid card spoils the list.
		"cards " + fours(visa+bad+mc, " ") + " x",
		// A run that starts inside a longer number.
		"n 12 " + fours(visa+mc, " ") + " x",
		"n " + "1234-" + fours(visa+mc, " ") + " x",
		// A column of four-digit numbers.
		fours(visa+mc, "\n") + "\n",
	} {
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want none", text, ms)
		}
	}
}

// TestIssue7ListsOfValidValuesInColumns: one card per line written with
// two spaces or " \t " between its groups looks like a table of aligned
// or tab-separated cells; valid values do not demote each other.
func TestIssue7ListsOfValidValuesInColumns(t *testing.T) {
	s := mustSet(t, "credit_card")
	cards := []string{luhnComplete("453201511283036"), luhnComplete("550000000000000"), luhnComplete("601100099990001"), luhnComplete("411111111111111")}
	for _, sep := range []string{"  ", " \t ", "\t "} {
		var b strings.Builder
		b.WriteString("list:\n")
		for _, c := range cards {
			b.WriteString(fours(c, sep) + "\r\n")
		}
		text := b.String()
		ms := find(s.Scan(text, nil), "credit_card")
		if len(ms) != len(cards) {
			t.Fatalf("Scan(%q) = %+v, want %d cards", text, ms, len(cards))
		}
		for _, m := range ms {
			if m.Confidence < Medium {
				t.Errorf("Scan(%q): %q %v (%v), want medium", text, text[m.Start:m.End], m.Confidence, m.Why.Demoted)
			}
		}
	}
	// A table of four-digit numbers in which one row passes by chance
	// stays low.
	text := "a     b     c     d\n1234  5678  9012  3456\n" + fours(cards[0], "  ") + "\n1111  2222  3333  4445\n"
	for _, m := range find(s.Scan(text, nil), "credit_card") {
		if m.Confidence >= Medium {
			t.Errorf("Scan(%q): %q %v, want low", text, text[m.Start:m.End], m.Confidence)
		}
	}
}

// TestIssue7TrackData: the card number of a magnetic stripe track 1
// ("%B<pan>^NAME^...") is found.
func TestIssue7TrackData(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("411701028774745")
	text := "%B" + visa + "^DOE/JOHN^2912101000000000?"
	if m := one(t, s, "credit_card", text); m.Confidence < Medium || text[m.Start:m.End] != visa {
		t.Errorf("Scan(%q) = %+v, want the card at medium", text, m)
	}
	// Not without the '%', and not a longer run.
	for _, text := range []string{"B" + visa + "^x", "%B" + visa + "7^x"} {
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want none", text, ms)
		}
	}
}

// TestIssue7DashesAmexQuotedWrap: en dash, em dash and minus sign join
// groups like '-'; Amex is found written 4-4-4-3; a value wrapped in a
// quoted reply continues after the "> " of the next line.
func TestIssue7DashesAmexQuotedWrap(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	amex := luhnComplete("37828224631000")
	for _, text := range []string{
		"pay " + fours(visa, "\u2013") + " now",
		"pay " + fours(visa, "\u2014") + " now",
		"pay " + fours(visa, "\u2212") + " now",
		"pay " + fours(visa, " \u2014 ") + " now",
		"pay " + fours(amex, " ") + " now",
		"> please charge " + visa[:4] + " " + visa[4:8] + "\n> " + visa[8:12] + " " + visa[12:] + " today",
		">> please charge " + visa[:4] + " " + visa[4:8] + "\r\n>> " + visa[8:12] + " " + visa[12:] + " today",
	} {
		if m := one(t, s, "credit_card", text); m.Confidence != Medium {
			t.Errorf("Scan(%q) = %v, want medium", text, m.Confidence)
		}
	}
	// A 4-4-4-3 that is the end of a longer run is not Amex.
	text := "ref 1234 " + fours(amex, " ") + " x"
	if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 0 {
		t.Errorf("Scan(%q) = %+v, want none", text, ms)
	}
}

// inGroups writes the digits of d in groups of w joined by sep.
func inGroups(d string, w int, sep string) string {
	var b strings.Builder
	for k := 0; k < len(d); k += w {
		if k > 0 {
			b.WriteString(sep)
		}
		b.WriteString(d[k:min(k+w, len(d))])
	}
	return b.String()
}

// TestIssue7PairsAndSpacedDigits: a card written in pairs or digit by
// digit is found when the whole run is the card (or a list of cards);
// phone numbers in pairs and longer runs are not.
func TestIssue7PairsAndSpacedDigits(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	mc := luhnComplete("550000000000000")
	amex := luhnComplete("37828224631000")
	for _, c := range []struct {
		text string
		n    int
	}{
		{"card " + inGroups(visa, 2, " ") + " ok", 1},
		{"card " + inGroups(visa, 1, " ") + " ok", 1},
		{"card " + inGroups(amex, 1, " ") + " ok", 1},
		{"cards " + inGroups(visa+mc, 2, " ") + " ok", 2},
		{"cards " + inGroups(visa, 2, " ") + "\n" + inGroups(mc, 2, " ") + "\n", 2},
	} {
		ms := find(s.Scan(c.text, nil), "credit_card")
		if len(ms) != c.n {
			t.Errorf("Scan(%q) = %+v, want %d", c.text, ms, c.n)
		}
		for _, m := range ms {
			if m.Confidence < Medium {
				t.Errorf("Scan(%q): %v, want medium", c.text, m.Confidence)
			}
		}
	}
	for _, text := range []string{
		"tel 01 23 45 67 89 or 06 12 34 56 78",
		"ref 12 " + inGroups(visa, 2, " ") + " x",
		"ref " + inGroups(visa, 2, " ") + " 12 x",
		"ref " + inGroups(visa+"12", 2, " ") + " x",
		"ref 7 " + inGroups(visa, 1, " ") + " x",
		"ref " + inGroups(visa+"1234", 1, " ") + " x",
	} {
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want none", text, ms)
		}
	}
}

// TestIssue7CardsInFileNames: a file name whose numeric pieces are two or
// more valid cards is a list of cards, joined by '-', '_' or '.'; a
// fuzzer id with one number among words, and names in a path, stay
// identifiers. Groups joined by '_' are a separated value.
func TestIssue7CardsInFileNames(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	mc := luhnComplete("550000000000000")
	for _, c := range []struct {
		text string
		n    int
	}{
		{"attached " + visa + "-" + mc + ".txt", 2},
		{"attached " + visa + "_" + mc + ".txt", 2},
		{"attached card-numbers-" + visa + "-" + mc + "-" + luhnComplete("601100099990001") + ".txt", 3},
		{"card " + inGroups(visa, 4, "_") + " ok", 1},
	} {
		ms := find(s.Scan(c.text, nil), "credit_card")
		medium := 0
		for _, m := range ms {
			if m.Confidence >= Medium {
				medium++
			}
		}
		if medium != c.n {
			t.Errorf("Scan(%q) = %+v, want %d at medium", c.text, ms, c.n)
		}
	}
	for _, text := range []string{
		"see testcase-minimized-parser-" + visa + ".txt",
		"see https://cdn.example.net/media/" + visa + "/" + mc + "_1080p.mp4",
		"see file:///home/build/out/" + visa + "-" + mc + ".log",
		"see build-" + visa + "-" + mc + "-12345.log",
		"see id_" + visa + "_x",
	} {
		for _, m := range find(s.Scan(text, nil), "credit_card") {
			if m.Confidence >= Medium {
				t.Errorf("Scan(%q): %q %v, want low", text, text[m.Start:m.End], m.Confidence)
			}
		}
	}
}

// TestIssue7HalvesOnLinesAndCells: cards written in eight-digit halves,
// a half per line (a <br> inside each number) or per table cell, are a
// list when the whole run divides into two or more valid cards.
func TestIssue7HalvesOnLinesAndCells(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	mc := luhnComplete("550000000000000")
	bad := visa[:15] + string('0'+(visa[15]-'0'+1)%10)
	for _, text := range []string{
		"See below.\n" + visa[:8] + "\n" + visa[8:] + "\n" + mc[:8] + "\n" + mc[8:] + "\n",
		"See below.\n" + visa[:8] + "\t" + visa[8:] + "\n" + mc[:8] + "\t" + mc[8:] + "\n",
	} {
		ms := find(s.Scan(text, nil), "credit_card")
		if len(ms) != 2 {
			t.Errorf("Scan(%q) = %+v, want 2", text, ms)
		}
	}
	for _, text := range []string{
		// One card alone in a column, an invalid card, an odd count,
		// dates.
		"See below.\n" + visa[:8] + "\n" + visa[8:] + "\n",
		"See below.\n" + visa[:8] + "\n" + visa[8:] + "\n" + bad[:8] + "\n" + bad[8:] + "\n",
		"See below.\n12345678\n" + visa[:8] + "\n" + visa[8:] + "\n" + mc[:8] + "\n" + mc[8:] + "\n",
		"20260101\n20260102\n20260103\n20260104\n",
	} {
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want none", text, ms)
		}
	}
}

// TestIssue8CSVRowsAreNotWrappedValues: the last cell of a CSV row and
// the first cell of the next are two values, not one wrapped.
func TestIssue8CSVRowsAreNotWrappedValues(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	for _, text := range []string{
		"part,qty,badge\n31180,4," + visa[:8] + "\n" + visa[8:] + ",36,1\n",
		"part;qty\n31180;" + visa[:8] + "\n" + visa[8:] + ";36\n",
	} {
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want none", text, ms)
		}
	}
	// In prose a comma after the value is punctuation.
	text := "please charge " + visa[:8] + "\n" + visa[8:] + ", thanks"
	if m := one(t, s, "credit_card", text); m.Confidence < Medium {
		t.Errorf("Scan(%q) = %v, want medium", text, m.Confidence)
	}
}

// TestIssue7ParenthesisedFirstGroup: a card written like a phone number,
// its first group in parentheses, is found; phone numbers are not.
func TestIssue7ParenthesisedFirstGroup(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	for _, text := range []string{
		"card (" + visa[:4] + ") " + inGroups(visa[4:], 4, "-") + " ok",
		"card (" + visa[:4] + ") " + inGroups(visa[4:], 4, " ") + " ok",
		"card (" + visa[:4] + ") " + inGroups(visa[4:], 4, "-") + " 12/28",
	} {
		if m := one(t, s, "credit_card", text); m.Confidence < Medium {
			t.Errorf("Scan(%q) = %v, want medium", text, m.Confidence)
		}
	}
	for _, text := range []string{
		"call (555) 123-4567",
		"ref (" + visa[:4] + ") " + inGroups(visa[4:], 4, "-") + "-1234 x",
		"ref (" + visa[:4] + ") " + visa[4:8] + "-" + visa[8:12] + " " + visa[12:] + " x",
	} {
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want none", text, ms)
		}
	}
}

// TestIssue7CardsUnderIDKeys: an id key demotes a lone card-shaped value
// (API ids pass the card checks about once in thirty), but values of one
// id key that are all valid cards are a list of cards.
func TestIssue7CardsUnderIDKeys(t *testing.T) {
	s := mustSet(t, "credit_card")
	cards := []string{luhnComplete("494580730215736"), luhnComplete("518193036426212"), luhnComplete("529972200332245"), luhnComplete("438323640562241")}
	var list strings.Builder
	for _, c := range cards {
		fmt.Fprintf(&list, `{"id": %s}, `, c)
	}
	for _, m := range s.Scan(list.String(), nil) {
		if m.Confidence < Medium {
			t.Errorf("card under an id key among cards: %v (%v), want medium or above", m.Confidence, m.Why)
		}
	}
	if n := len(s.Scan(list.String(), nil)); n != len(cards) {
		t.Errorf("%d matches, want %d", n, len(cards))
	}
	// One card-shaped id among ids that fail the checks stays low; so does
	// a lone one, and the same value repeated.
	for _, text := range []string{
		`{"id": 5390364397928441}, {"id": ` + cards[0] + `}, {"id": 5390364397928442}, {"id": 5390364397928443}`,
		`{"id": ` + cards[0] + `}`,
		`{"id": ` + cards[0] + `}, {"id": ` + cards[0] + `}, {"id": ` + cards[0] + `}`,
	} {
		for _, m := range s.Scan(text, nil) {
			if m.Confidence != Low {
				t.Errorf("Scan(%q): %v (%v), want low", text, m.Confidence, m.Why)
			}
		}
	}
}

// TestIssue8CardNotAlsoNIR: 15 digits that are a valid Amex number and
// also pass the NIR's key (once in 97) are read as the card; the NIR
// reading stays at low unless its own keyword is near.
func TestIssue8CardNotAlsoNIR(t *testing.T) {
	s := mustSet(t, "credit_card", "fr_nir")
	const v = "346225199619855"
	var card, nir bool
	for _, m := range s.Scan("paid with 346225199619855 yesterday", nil) {
		switch m.Detector {
		case "credit_card":
			card = m.Confidence >= Medium
		case "fr_nir":
			nir = true
			if m.Confidence != Low || m.Why.Demoted != DemotedCard {
				t.Errorf("fr_nir: %v (%v), want low, demoted as a card", m.Confidence, m.Why)
			}
		}
	}
	if !card || !nir {
		t.Errorf("card found %v, NIR reading kept %v; want both", card, nir)
	}
	for _, m := range s.Scan("numéro de sécurité sociale "+v, nil) {
		if m.Detector == "fr_nir" && m.Confidence != High {
			t.Errorf("fr_nir with its keyword: %v (%v), want high", m.Confidence, m.Why)
		}
	}
}
