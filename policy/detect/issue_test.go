package detect

import (
	"strings"
	"testing"
)

// one returns the single match of detector name in text, or fails.
func one(t *testing.T, s *Set, name, text string) Match {
	t.Helper()
	ms := find(s.Scan(text, nil), name)
	if len(ms) != 1 {
		t.Fatalf("Scan(%q) = %+v, want one %s", text, ms, name)
	}
	return ms[0]
}

// TestIssue7SplitValues: values broken by a wrapped line, two spaces,
// " - ", a tab (adjacent table cells) are found at medium.
func TestIssue7SplitValues(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	g := visa[:4] + " " + visa[4:8] + " " + visa[8:12] + " " + visa[12:]
	for _, text := range []string{
		"please charge " + visa[:4] + " " + visa[4:8] + "\n" + visa[8:12] + " " + visa[12:] + " today",
		"please charge " + visa[:4] + " " + visa[4:8] + " \r\n" + visa[8:12] + " " + visa[12:] + " today",
		"please charge " + visa[:10] + "\n" + visa[10:] + " today",
		"please charge " + visa[:10] + "\r\n" + visa[10:] + " 12/28",
		"pay " + strings.ReplaceAll(g, " ", "  ") + " now",
		"pay " + strings.ReplaceAll(g, " ", " - ") + " now",
		"pay " + strings.ReplaceAll(g, " ", " \u2013 ") + " now",
		"pay " + strings.ReplaceAll(g, " ", "\t") + " now",
		"<td>" + strings.ReplaceAll(g, " ", "\t") + "\n",
	} {
		if m := one(t, s, "credit_card", text); m.Confidence != Medium {
			t.Errorf("Scan(%q) = %v, want medium", text, m.Confidence)
		}
	}
	for _, text := range []string{
		// A column of numbers is no wrapped value.
		visa[:4] + " " + visa[4:8] + "\n" + visa[8:12] + " " + visa[12:] + "\n",
		visa[:8] + "\n" + visa[8:] + "\n",
		// One card per line stays two cards, not one joined run.
		"x " + visa + "\n5555555555554444 y",
		// Two line breaks, three spaces, mixed wide separators.
		"pay " + visa[:8] + "\n\n" + visa[8:] + " now",
		"pay " + strings.ReplaceAll(g, " ", "   ") + " now",
		"pay " + visa[:4] + "  " + visa[4:8] + "\t" + visa[8:12] + " - " + visa[12:] + " now",
		// Twenty digits in fours, wrapped.
		"ref 1111 " + visa[:4] + " " + visa[4:8] + "\n" + visa[8:12] + " " + visa[12:] + " x",
	} {
		for _, m := range find(s.Scan(text, nil), "credit_card") {
			if text[m.Start:m.End] != "5555555555554444" && !strings.HasPrefix(text[m.Start:], visa+"\n") {
				t.Errorf("Scan(%q): card at %q", text, text[m.Start:m.End])
			}
		}
	}
	if ms := find(s.Scan("x "+visa+"\n5555555555554444 y", nil), "credit_card"); len(ms) != 2 {
		t.Errorf("one card per line: %+v, want 2", ms)
	}
}

// TestIssue7IBANForms: IBANs with dashes, in lower case, wrapped; the tail
// of an IBAN-shaped string that fails its check is no card.
func TestIssue7IBANForms(t *testing.T) {
	s := mustSet(t, allNames()...)
	for _, text := range []string{
		"IBAN DE89-3704-0044-0532-0130-00 ok",
		"to de89 3704 0044 0532 0130 00 ok",
		"to de89370400440532013000 ok",
		"to DE89  3704  0044  0532  0130  00 ok",
		"to DE89.3704.0044.0532.0130.00 ok",
		"send it to DE89 3704 0044\n0532 0130 00 please",
		"to gb82 west 1234 5698 7654 32 ok",
	} {
		if m := one(t, s, "iban", text); m.Confidence < Medium {
			t.Errorf("Scan(%q) = %v, want medium or above", text, m.Confidence)
		}
	}
	// The digits after a failed IBAN head would pass as a card.
	card := "4111 1111 1111 1111"
	if m := one(t, s, "credit_card", "x "+card+" 12 x"); m.Confidence != Medium {
		t.Fatalf("card alone: %v", m.Confidence)
	}
	for _, text := range []string{"DE12 " + card + " 12", "de12-4111-1111-1111-1111-12"} {
		if ms := s.Scan("pay "+text+" now", nil); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want nothing (slice of an IBAN-like string)", text, ms)
		}
	}
}

// TestIssue7AWSPrefixes: every credential prefix is medium; the other
// unique-ID prefixes are low.
func TestIssue7AWSPrefixes(t *testing.T) {
	s := mustSet(t, "aws_access_key")
	for _, p := range []string{"AKIA", "ASIA", "ABIA", "ACCA", "A3TX", "A3T7"} {
		if m := one(t, s, "aws_access_key", "id "+p+"QWERTY234567ABCD x"); m.Confidence != Medium {
			t.Errorf("%s: %v, want medium", p, m.Confidence)
		}
	}
	for _, p := range []string{"AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA"} {
		if m := one(t, s, "aws_access_key", "id "+p+"QWERTY234567ABCD x"); m.Confidence != Low {
			t.Errorf("%s: %v, want low", p, m.Confidence)
		}
	}
	for _, w := range []string{"AXYZQWERTY234567ABCD", "A3T-QWERTY234567ABCD", "AKIAQWERTY234567ABC1"} {
		if ms := s.Scan("id "+w+" x", nil); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want nothing", w, ms)
		}
	}
}

// TestIssue7KeywordBeforeFileExtension: a value that is a whole word of
// a file name but for its extension ("SSN 123-45-6789.txt", an attachment
// named after its content) is judged like free text; the extension alone
// does not make it an identifier.
func TestIssue7KeywordBeforeFileExtension(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	for _, text := range []string{"card " + visa + ".txt", "Visa card number " + visa + ".pdf", visa + ".zip attached (card parser crash)"} {
		if m := one(t, s, "credit_card", text); m.Confidence != High {
			t.Errorf("Scan(%q) = %v (%v), want high", text, m.Confidence, m.Why)
		}
	}
}

// TestIssue8IdentifierContext: digit runs in URLs, paths, file names and
// compound identifiers are low, and a keyword does not raise them.
func TestIssue8IdentifierContext(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	for _, text := range []string{
		"card: https://bugs.example.org/testcase-detail/" + visa,
		"see clusterfuzz-testcase-minimized-fuzzer-" + visa + " (card parser)",
		"card attached as crash-" + visa + ".zip",
		"card log " + visa + "-crash.txt",
		"card https://example.com/view?a=1&id=" + visa + " ok",
		"card www.example.com?id=" + visa,
		"card example.com/" + visa,
		"card a.b." + visa,
	} {
		m := one(t, s, "credit_card", text)
		if m.Confidence != Low || m.Why.Demoted != DemotedIdentifier {
			t.Errorf("Scan(%q) = %v (%v), want low, demoted as an identifier", text, m.Confidence, m.Why)
		}
	}
	for _, text := range []string{"Ref-" + visa, "No." + visa, "card=" + visa, visa + ".", "(" + visa + ")", visa + "/25"} {
		if m := one(t, s, "credit_card", "x "+text+" x"); m.Why.Demoted != NotDemoted || m.Confidence < Medium {
			t.Errorf("Scan(%q) = %v (%v), want medium or above", text, m.Confidence, m.Why)
		}
	}
}

// TestIssue8Labels: a number's own nearer label wins over a keyword
// further away; a nearer keyword wins over the label.
func TestIssue8Labels(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	pad := strings.Repeat("word ", 20)
	for _, c := range []struct {
		text  string
		want  Confidence
		label string
	}{
		{"Order " + visa, Low, "order"},
		{"Tracking number: " + visa, Low, "tracking"},
		{"card details follow. " + pad + "Invoice no. " + visa, Low, "invoice"},
		{"SSN checked. " + pad + "Parcel 536-22-1234", Low, "parcel"},
		{"card. " + pad + "Transaction ID:\n" + visa, Low, "transaction"},
		{"Order card number " + visa, High, ""},
		{"Order 12, card " + visa, High, ""},
		{"Order placed; " + pad + visa, Medium, ""},
		{"ordered " + visa, Medium, ""},
	} {
		ms := s.Scan(c.text, nil)
		var m *Match
		for k := range ms {
			if ms[k].Detector == "credit_card" || ms[k].Detector == "us_ssn" {
				m = &ms[k]
			}
		}
		if m == nil {
			t.Errorf("Scan(%q): nothing", c.text)
			continue
		}
		if m.Confidence != c.want || m.Why.Label != c.label {
			t.Errorf("Scan(%q) = %v (%v), want %v label %q", c.text, m.Confidence, m.Why, c.want, c.label)
		}
	}
}

// TestIssue8ConfidenceModel checks every identifier's confidence alone
// against the model table, and that a keyword raises it to High with the
// keyword and its distance in Why.
func TestIssue8ConfidenceModel(t *testing.T) {
	s := mustSet(t, allNames()...)
	for _, info := range Builtins() {
		i := byName[info.Name]
		v := sampleValues[info.Name]
		text := "value " + v + " end"
		var m *Match
		ms := s.Scan(text, nil)
		for k := range ms {
			if ms[k].Detector == info.Name && text[ms[k].Start:ms[k].End] == v {
				m = &ms[k]
			}
		}
		if m == nil {
			t.Errorf("%s: Scan(%q) = %+v", info.Name, text, ms)
			continue
		}
		f := formPlain
		switch {
		case strings.Contains(v, "-") && registry[i].numeric != nil:
			f = formDashed
		case strings.Contains(v, " ") && registry[i].numeric != nil:
			f = formSpaced
		}
		if m.Confidence != model[i].conf[f] || m.Why.Base != m.Confidence {
			t.Errorf("%s: %q alone = %v (%v), want %v", info.Name, v, m.Confidence, m.Why, model[i].conf[f])
		}
		kw := info.Keywords[0]
		text = kw + " is " + v
		for _, m := range find(s.Scan(text, nil), info.Name) {
			if m.Confidence != High || m.Why.Keyword == "" || m.Why.Distance > len(kw)+4 {
				t.Errorf("%s: Scan(%q) = %v (%v), want high by a keyword", info.Name, text, m.Confidence, m.Why)
			}
		}
	}
	// Separated forms: only the dashed SSN is medium; Aadhaar is low.
	for _, c := range []struct {
		name, v string
		want    Confidence
	}{
		{"us_ssn", "536-22-1234", Medium}, {"us_ssn", "536 22 1234", Low}, {"us_ssn", "536.22.1234", Low},
		{"us_itin", "912-70-1234", Medium}, {"us_itin", "912 70 1234", Low},
		{"in_aadhaar", "2341 2341 2346", Low}, {"in_aadhaar", "2341-2341-2346", Low},
		{"uk_nhs", "401 023 2137", Low},
	} {
		if m := one(t, s, c.name, "value "+c.v+" end"); m.Confidence != c.want {
			t.Errorf("%s %q = %v, want %v", c.name, c.v, m.Confidence, c.want)
		}
	}
	// No label is also a keyword: a word cannot both raise and demote.
	kw := map[string]bool{}
	for _, info := range Builtins() {
		for _, k := range info.Keywords {
			kw[strings.ToLower(k)] = true
		}
	}
	for _, l := range numberLabels {
		if kw[strings.ToLower(l)] {
			t.Errorf("label %q is also a keyword", l)
		}
	}
}

// TestScanUntilStops checks that the scan asks its stop function as it
// goes and ends early when told to.
func TestScanUntilStops(t *testing.T) {
	s := mustSet(t, allNames()...)
	text := denseText(1 << 20)
	calls := 0
	ms, done := s.ScanUntil(text, nil, func() bool { calls++; return calls > 2 })
	if done || calls != 3 {
		t.Fatalf("ScanUntil: done %v after %d calls, want false after 3", done, calls)
	}
	if len(ms) == 0 || ms[len(ms)-1].End > 4*stopEvery {
		t.Errorf("ScanUntil stopped after %d matches ending at %d, want some, before %d", len(ms), ms[len(ms)-1].End, 4*stopEvery)
	}
	calls = 0
	all, done := s.ScanUntil(text, nil, func() bool { calls++; return false })
	if !done || calls < (1<<20)/stopEvery || len(all) != len(s.Scan(text, nil)) {
		t.Errorf("ScanUntil(never) = %d matches, done %v, %d calls", len(all), done, calls)
	}
}

// TestIssue8TableColumns: a header cell is context for the values in its
// column, however far below; a label header caps its column at low even
// when another column's header is a keyword.
func TestIssue8TableColumns(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	var b strings.Builder
	b.WriteString("Name,SSN,Order ID,Card number\n")
	for range 40 {
		b.WriteString("Jane Roe,536-22-1234,\"" + visa + "\",5555555555554444\n")
	}
	b.WriteString("Jane Roe,536-22-1235,\"" + visa + "\",5555555555554444\n")
	text := b.String()
	last := strings.LastIndex(text, "536-22-1235")
	for _, m := range s.Scan(text, nil) {
		switch {
		case m.Start == last && m.Detector == "us_ssn":
			if m.Confidence != High || m.Why.Keyword != "ssn" || !m.Why.Column {
				t.Errorf("SSN below an SSN header: %v (%v)", m.Confidence, m.Why)
			}
		case text[m.Start:m.End] == visa && m.Detector == "credit_card":
			if m.Confidence != Low || m.Why.Label != "order" {
				t.Errorf("card number under an Order ID header: %v (%v)", m.Confidence, m.Why)
			}
		case text[m.Start:m.End] == "5555555555554444":
			if m.Confidence != High || !m.Why.Column {
				t.Errorf("card under a Card number header: %v (%v)", m.Confidence, m.Why)
			}
		}
	}
	// TSV, and a header row of an HTML table extracted with tabs.
	tsv := "Customer\tCard\n" + strings.Repeat("Jane Roe\t5555555555554444\n", 30) + "John Doe\t" + visa + "\n"
	if ms := find(s.Scan(tsv, nil), "credit_card"); ms[len(ms)-1].Confidence != High {
		t.Errorf("TSV card column: %+v", ms[len(ms)-1])
	}
	// Prose with one comma per line is no table: the value does not fill
	// a cell.
	prose := "Thanks for your order, the numbers are below\nfirst is " + visa + ", second follows\n"
	if m := one(t, s, "credit_card", prose); m.Confidence != Medium {
		t.Errorf("prose: %v (%v), want medium", m.Confidence, m.Why)
	}
}

// TestIssue8IdentifierPrefixes: lower-case words and capital prefixes
// joined to a number by '-', and identifier keys before '=', make it an
// identifier; labels ("Ref-", "No.") and plain keys do not.
func TestIssue8IdentifierPrefixes(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	for _, pre := range []string{"oom-", "crash-", "RMA-", "INV-", "dd.trace_id=", "span_id=", "testcaseId=", "a;id="} {
		if m := one(t, s, "credit_card", "x "+pre+visa+" x"); m.Why.Demoted != DemotedIdentifier {
			t.Errorf("%s: %v (%v), want demoted as an identifier", pre, m.Confidence, m.Why)
		}
	}
	for _, pre := range []string{"Ref-", "No.", "no.", "cc=", "pan=", "A-"} {
		if m := one(t, s, "credit_card", "x "+pre+visa+" x"); m.Why.Demoted != NotDemoted {
			t.Errorf("%s: %v (%v), want no demotion", pre, m.Confidence, m.Why)
		}
	}
	if m := one(t, s, "credit_card", "ClusterFuzz testcase "+visa+" is fixed"); m.Why.Label != "testcase" {
		t.Errorf("testcase label: %v", m.Why)
	}
}

// TestIssue8AlignedAndHTMLTables: plain-text tables of aligned columns and
// HTML tables extracted with blank lines between rows have headers too; a
// value whose neighbours in its column are numbers of its width that fail
// the validator is one of them by chance.
func TestIssue8AlignedAndHTMLTables(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	aligned := "Invoice      Customer no.  Amount\n" +
		"536-22-1234  803975865     12.00\n" +
		visa + "  232828224  3.50\n"
	for _, m := range s.Scan("social security office\n"+aligned, nil) {
		if m.Confidence >= Medium {
			t.Errorf("aligned table: %s %v (%v) at %q", m.Detector, m.Confidence, m.Why, aligned[max(0, m.Start-24):m.Start])
		}
	}
	html := "Name\tCard\t\n\n\nJane\t5555555555554444\t\n\n\nJohn\t" + visa + "\t\n"
	if ms := find(s.Scan(strings.Repeat("x ", 200)+html, nil), "credit_card"); len(ms) != 2 || ms[1].Confidence != High || !ms[1].Why.Column {
		t.Errorf("HTML table card column: %+v", ms)
	}
	// A counter column: the card-like value's neighbours fail Luhn.
	bad := visa[:15] + string('0'+(visa[15]-'0'+1)%10)
	col := "sensor\tcounter\nS-1\t" + bad + "\nS-2\t" + visa + "\nS-3\t" + bad + "\n"
	if m := one(t, s, "credit_card", col); m.Confidence != Low || m.Why.Demoted != DemotedColumn {
		t.Errorf("counter column: %v (%v), want low, demoted by its column", m.Confidence, m.Why)
	}
	// A column of cards stays medium.
	cards := "sensor\tcounter\nS-1\t5555555555554444\nS-2\t" + visa + "\nS-3\t4111111111111111\n"
	for _, m := range find(s.Scan(cards, nil), "credit_card") {
		if m.Confidence != Medium {
			t.Errorf("card column: %v (%v), want medium", m.Confidence, m.Why)
		}
	}
}

// TestIssue7OddJoin: one join of a value may differ from the others when
// it is a line break (wrapped in place of any separator, or after a
// hyphen) or two spaces among single spaces (an HTML comment removed
// between groups); two numbers in adjacent columns of an aligned table
// are not one value.
func TestIssue7OddJoin(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	g := []string{visa[:4], visa[4:8], visa[8:12], visa[12:]}
	for _, text := range []string{
		"pay " + g[0] + " " + g[1] + "  " + g[2] + " " + g[3] + " now",
		"pay " + g[0] + "-" + g[1] + "\n" + g[2] + "-" + g[3] + " now",
		"pay " + g[0] + "-" + g[1] + "-\n" + g[2] + "-" + g[3] + " now",
	} {
		if m := one(t, s, "credit_card", text); m.Confidence != Medium {
			t.Errorf("Scan(%q) = %v, want medium", text, m.Confidence)
		}
	}
	if m := one(t, s, "us_ssn", "SSN 536\n22-1234 on file"); m.Confidence != High {
		t.Errorf("SSN wrapped at a group: %v", m.Confidence)
	}
	for _, text := range []string{
		"pay " + g[0] + "  " + g[1] + "\n" + g[2] + " " + g[3] + " now", // two odd joins
		"pay " + g[0] + "-" + g[1] + "  " + g[2] + "-" + g[3] + " now",  // two spaces among dashes
		"Name      Phone      Mobile\nJane Roe  " + g[0] + " " + g[1] + "  " + g[2] + " " + g[3] + "\n",
	} {
		for _, m := range find(s.Scan(text, nil), "credit_card") {
			if m.Confidence >= Medium {
				t.Errorf("Scan(%q) = %v (%v), want nothing at medium", text, m.Confidence, m.Why)
			}
		}
	}
}

// TestIssue8TableCostLinear: the table context examines a bounded
// multiple of the text however its values are laid out: many values on
// one line, a line too long to be a table row, tall tables, many blank
// lines between rows. Work at 8n is at most 8 times (plus slack) the
// work at n.
func TestIssue8TableCostLinear(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	row := strings.Repeat(visa+"\t", 200) + "\n"
	for _, c := range []struct {
		name string
		gen  func(n int) string
	}{
		{"wide rows", func(n int) string { return "a\tb\n" + strings.Repeat(row, n) }},
		{"one long line", func(n int) string { return strings.Repeat(visa+"\t", 250*n) }},
		{"tall table", func(n int) string { return "Card\tName\n" + strings.Repeat(visa+"\tJane\n", 200*n) }},
		{"blank rows", func(n int) string { return "Card\tName\n" + strings.Repeat(visa+"\tJane\n\n\n\n\n\n\n", 100*n) }},
		{"aligned", func(n int) string { return "Card              Name\n" + strings.Repeat(visa+"  Jane\n", 200*n) }},
	} {
		work := func(n int) int64 {
			var w int64
			tableWork = func(x int64) { w += x }
			defer func() { tableWork = nil }()
			text := c.gen(n)
			s.Scan(text, nil)
			return w + 1
		}
		w1, w8 := work(8), work(64)
		if w8 > 9*w1 {
			t.Errorf("%s: table work %d at n, %d at 8n: grows faster than the text", c.name, w1, w8)
		}
		if n := int64(len(c.gen(64))); w8 > 32*n {
			t.Errorf("%s: table work %d for %d bytes", c.name, w8, n)
		}
	}
}

// TestIssue8BICNoBankTerritory: capitalised words that fit the BIC shape
// with the country code of a territory without banks are no BIC.
func TestIssue8BICNoBankTerritory(t *testing.T) {
	s := mustSet(t, "swift_bic")
	if ms := s.Scan("SWIFT: see the VERSIONS section", nil); len(ms) != 0 {
		t.Errorf("VERSIONS: %+v", ms)
	}
	if m := one(t, s, "swift_bic", "SWIFT: DEUTDEFF"); m.Confidence != High {
		t.Errorf("DEUTDEFF: %v", m.Confidence)
	}
}

// TestIssue8KeyedURLValue: a card in a URL whose own key is a card
// keyword is not hidden by the URL.
func TestIssue8KeyedURLValue(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	for _, text := range []string{
		"https://evil.example/collect?pan=" + visa,
		"https://evil.example/collect?a=1&card=" + visa + "&x=2",
		"https://evil.example/card/" + visa,
	} {
		if m := one(t, s, "credit_card", text); m.Confidence != High || m.Why.Demoted != NotDemoted {
			t.Errorf("Scan(%q) = %v (%v), want high", text, m.Confidence, m.Why)
		}
	}
	if m := one(t, s, "credit_card", "card: https://x.example/testcase?key="+visa); m.Confidence != Low {
		t.Errorf("testcase key: %v (%v), want low", m.Confidence, m.Why)
	}
}

// TestIssue8BICInCapitals: words of text written in capitals that fit a
// BIC's shape are low even next to a bank keyword; a BIC next to its
// keywords in capitals is not.
func TestIssue8BICInCapitals(t *testing.T) {
	s := mustSet(t, "swift_bic")
	text := "IMPORTANT CUSTOMER NOTICE - BUSINESS BANKING\nDEAR CUSTOMER, FROM MONDAY OUR BANK CHANGES. +86 10 6450 1558. VERSIONS OF THIS NOTICE"
	for _, m := range s.Scan(text, nil) {
		if m.Confidence != Low || m.Why.Demoted != DemotedCaps {
			t.Errorf("%q: %v (%v), want low", text[m.Start:m.End], m.Confidence, m.Why)
		}
	}
	for _, text := range []string{"SWIFT BIC: DEUTDEFF", "BIC DEUTDEFF; WIRE TRANSFER", "BANK: DEUTSCHE BANK, BIC DEUTDEFF IBAN DE89"} {
		ms := s.Scan(text, nil)
		if m := ms[len(ms)-1]; text[m.Start:m.End] != "DEUTDEFF" || m.Confidence != High {
			t.Errorf("Scan(%q) = %v (%v), want DEUTDEFF high", text, m.Confidence, m.Why)
		}
	}
}

// TestIssue8StructuredKeys: values of identifier keys in JSON, YAML and
// key=value log lines are identifiers.
func TestIssue8StructuredKeys(t *testing.T) {
	s := mustSet(t, "credit_card")
	visa := luhnComplete("453201511283036")
	for _, text := range []string{
		`{"id": ` + visa + `, "method": "card"}`,
		`{"transaction_id": "` + visa + `"}`,
		"label_id: " + visa,
		"job=3 attempt=5 offset=" + visa + " card",
		`"  ""id"": ` + visa + `, ""sku""`,
	} {
		if m := one(t, s, "credit_card", text); m.Confidence != Low || m.Why.Demoted != DemotedIdentifier {
			t.Errorf("Scan(%q) = %v (%v), want low as an identifier", text, m.Confidence, m.Why)
		}
	}
	for _, text := range []string{`{"card_number": "` + visa + `"}`, "Card id: " + visa, "name=Jane card=" + visa} {
		if m := one(t, s, "credit_card", text); m.Confidence != High {
			t.Errorf("Scan(%q) = %v (%v), want high", text, m.Confidence, m.Why)
		}
	}
}

// TestIssue7JWTAsFileName: a token followed by a file extension (an
// attachment named after it) is still a token; five segments are JWE.
func TestIssue7JWTAsFileName(t *testing.T) {
	s := mustSet(t, "jwt")
	tok := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4NTA1ODQ0NCIsImlhdCI6MTcwODM4ODM3NX0.gCevXxYC2rO5LSfD0gOiWzSjJOhtc0dNQA3seYRoNyd"
	if ms := s.Scan("Bearer "+tok+".txt", nil); len(ms) != 1 {
		t.Errorf("token before .txt: %d matches, want 1", len(ms))
	}
	if ms := s.Scan("x "+tok+".c2VnbWVudDQ.c2VnbWVudDU x", nil); len(ms) != 0 {
		t.Errorf("five segments (JWE): %d matches, want 0", len(ms))
	}
}

// TestIssue7CardGluedToLabel: a card number glued to its own label is a
// card; a digit run glued to any other word stays part of an identifier.
func TestIssue7CardGluedToLabel(t *testing.T) {
	s := mustSet(t, allNames()...)
	visa := luhnComplete("453201511283036")
	for _, text := range []string{
		"card" + visa + "exp",
		"CC" + visa,
		"x Visa" + visa + " y",
		"ccnum" + visa + "\n",
	} {
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 1 || text[ms[0].Start:ms[0].End] != visa {
			t.Errorf("Scan(%q) = %+v, want the card", text, ms)
		}
	}
	for _, text := range []string{
		"testcase" + visa,
		"cardx" + visa,
		"card" + visa + "1",
		"card" + visa + "ab12",
		"card" + visa + "_x",
		"order" + visa + "exp",
	} {
		if ms := find(s.Scan(text, nil), "credit_card"); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want no card", text, ms)
		}
	}
}

// TestIssue7CardsListedInURLQuery: a query value listing only valid card
// numbers is a list of cards; one number in a query stays an identifier.
func TestIssue7CardsListedInURLQuery(t *testing.T) {
	s := mustSet(t, allNames()...)
	a, b, c := luhnComplete("453201511283036"), luhnComplete("555555555555444"), luhnComplete("601100000000000")
	for _, text := range []string{
		`HYPERLINK "http://x/?c=` + a + "+" + b + "+" + c + `"`,
		"https://x.example/p?id=7&list=" + a + "," + b + "," + c + "&y=1",
	} {
		ms := find(s.Scan(text, nil), "credit_card")
		if len(ms) != 3 {
			t.Fatalf("Scan(%q) = %+v, want three cards", text, ms)
		}
		for _, m := range ms {
			if m.Confidence < Medium {
				t.Errorf("Scan(%q): %s at %v (%v), want medium or above", text, text[m.Start:m.End], m.Confidence, m.Why)
			}
		}
	}
	for _, text := range []string{
		"https://x.example/testcase?key=" + a,
		"https://x.example/p?c=" + a + "+12345",
		"https://x.example/p?c=" + a + "+" + b + "x",
	} {
		for _, m := range find(s.Scan(text, nil), "credit_card") {
			if m.Confidence >= Medium {
				t.Errorf("Scan(%q): %s at %v, want low", text, text[m.Start:m.End], m.Confidence)
			}
		}
	}
}
