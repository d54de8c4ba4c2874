package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestNewSetUnknown(t *testing.T) {
	if _, err := NewSet([]string{"credit_card", "credit_cards"}, nil, Options{}); err == nil || !strings.Contains(err.Error(), `"credit_cards"`) {
		t.Fatalf("NewSet(unknown) error = %v, want one naming credit_cards", err)
	}
	if _, err := New("nope", Options{}); err == nil {
		t.Fatal("New(nope) = nil error")
	}
}

func TestCatalogue(t *testing.T) {
	want := []string{
		"credit_card", "iban", "us_ssn", "us_itin", "aba_routing", "swift_bic",
		"uk_nino", "uk_nhs", "de_steuer_id", "fr_nir", "es_dni", "es_nie",
		"it_codice_fiscale", "nl_bsn", "pl_pesel", "ca_sin", "au_tfn",
		"in_aadhaar", "in_pan", "aws_access_key", "aws_secret_key", "gcp_api_key",
		"github_token", "slack_token", "slack_webhook", "stripe_key", "jwt",
		"private_key",
	}
	if got := allNames(); !slices.Equal(got, want) {
		t.Fatalf("Builtins names = %v, want %v", got, want)
	}
	for _, info := range Builtins() {
		if !IsBuiltin(info.Name) {
			t.Errorf("IsBuiltin(%q) = false", info.Name)
		}
		if info.Description == "" || info.Validator == "" || info.Confidence == "" || len(info.Keywords) == 0 || info.Evidence == "" {
			t.Errorf("%s: incomplete catalogue entry %+v", info.Name, info)
		}
		d, _ := New(info.Name, Options{})
		if d.Name() != info.Name {
			t.Errorf("New(%q).Name() = %q", info.Name, d.Name())
		}
	}
	if IsBuiltin("CREDIT_CARD") {
		t.Error("IsBuiltin is case-sensitive: CREDIT_CARD accepted")
	}
}

// spans returns "detector[start:end]" for every match.
func spans(text string, ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s=%s", m.Detector, text[m.Start:m.End]))
	}
	return out
}

func TestSeparators(t *testing.T) {
	s := mustSet(t, "credit_card", "us_ssn", "iban", "uk_nhs")
	if got := spans("943 476 5919", s.Scan("943 476 5919", nil)); !slices.Equal(got, []string{"uk_nhs=943 476 5919"}) {
		t.Fatalf("NHS without + = %q", got)
	}
	for _, c := range []struct {
		text string
		want []string
	}{
		{"pay 4111111111111111 now", []string{"credit_card=4111111111111111"}},
		{"pay 4111 1111 1111 1111 now", []string{"credit_card=4111 1111 1111 1111"}},
		{"pay 4111-1111-1111-1111 now", []string{"credit_card=4111-1111-1111-1111"}},
		{"pay 4111.1111.1111.1111 now", []string{"credit_card=4111.1111.1111.1111"}},
		{"pay 4111/1111/1111/1111 now", []string{"credit_card=4111/1111/1111/1111"}},
		{"pay 4111\u00a01111\u00a01111\u00a01111 now", []string{"credit_card=4111\u00a01111\u00a01111\u00a01111"}},
		{"pay 4111\n1111\n1111\n1111 now", []string{"credit_card=4111\n1111\n1111\n1111"}},
		{"pay 4111\r\n1111\r\n1111\r\n1111 now", []string{"credit_card=4111\r\n1111\r\n1111\r\n1111"}},
		// Expiry date and CVV right after the number.
		{"card 4111 1111 1111 1111 12/25 123", []string{"credit_card=4111 1111 1111 1111"}},
		{"card 4111111111111111 12/25", []string{"credit_card=4111111111111111"}},
		// One card number per line.
		{"4111111111111111\n5555555555554444\n", []string{"credit_card=4111111111111111", "credit_card=5555555555554444"}},
		// Mixed separators: two phone-like numbers next to each other.
		{"call 4111-1111 1111-1111 today", nil},
		{"call 4111 1111\t1111 1111 today", nil},
		// Twenty digits in fours: part of a longer number.
		{"ref 4111 1111 1111 1111 1111", nil},
		{"ref 1111 4111 1111 1111 1111", nil},
		// Inside a longer digit run, or glued to letters.
		{"id 94111111111111111 x", nil},
		{"id 41111111111111110 x", nil},
		{"id X4111111111111111 x", nil},
		{"id 4111111111111111X x", nil},
		{"id 4111111111111111_2 x", nil},
		// Digits joined to a token of letters and digits belong to it.
		{"id 550e8400-e29b-41d4-a716-4111111111111111 x", nil},
		{"id a716-4111111111111111 x", nil},
		{"id v2/4111 1111 1111 1111 x", nil},
		{"id v2/1 4111 1111 1111 1111 x", []string{"credit_card=4111 1111 1111 1111"}},
		{"Ref-4111111111111111 x", []string{"credit_card=4111111111111111"}},
		{"No.4111111111111111 x", []string{"credit_card=4111111111111111"}},
		// Two separators in a row break the chain; two spaces are one
		// separator, three are not.
		{"4111 -- 1111 -- 1111 -- 1111", nil},
		{"4111   1111   1111   1111", nil},
		// Comma is not a group separator.
		{"4111,1111,1111,1111", nil},
		// SSN forms.
		{"ssn 536-22-1234.", []string{"us_ssn=536-22-1234"}},
		{"ssn 536 22 1234.", []string{"us_ssn=536 22 1234"}},
		{"tel 536-22-1234-5678", nil}, // 3-2-4-4: continues with a group as wide as the last
		// Thin and narrow no-break spaces count as spaces.
		{"pay 4111 1111 1111 1111 now", []string{"credit_card=4111 1111 1111 1111"}},
		{"pay 4111 1111 1111 1111 now", []string{"credit_card=4111 1111 1111 1111"}},
		// A run after '+' is an international phone number.
		{"tel +1 943 476 5919 or +4111111111111111", nil},
		// IBAN paper format next to other words.
		{"IBAN: GB82 WEST 1234 5698 7654 32, BIC", []string{"iban=GB82 WEST 1234 5698 7654 32"}},
	} {
		ms := s.Scan(c.text, nil)
		if got := spans(c.text, ms); !slices.Equal(got, c.want) {
			t.Errorf("Scan(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestProximity(t *testing.T) {
	visa := luhnComplete("453201511283036")
	pad := func(n int) string { return strings.Repeat("x ", n/2) }
	for _, c := range []struct {
		name   string
		window int
		text   string
		want   Confidence
	}{
		{"no keyword", 0, "number " + visa + " here", Medium},
		{"keyword before", 0, "Card number: " + visa, High},
		{"keyword after", 0, visa + " is my card", High},
		{"upper case", 0, "CREDIT CARD " + visa, High},
		{"German", 0, "Kreditkartennummer " + visa, High},
		{"French", 0, "Carte bancaire : " + visa, High},
		{"French upper case", 0, "NUMÉRO DE CARTE " + visa, High},
		{"Spanish", 0, "Tarjeta " + visa, High},
		{"CVV", 0, visa + " CVV 123", High},
		{"inside another word", 0, "discard " + visa, Medium},
		{"plural", 0, "cards: " + visa, High},
		{"longer word", 0, "cardigan " + visa, Medium},
		{"within 300", 0, "card " + pad(290) + visa, High},
		{"beyond 300", 0, "card " + pad(310) + visa, Medium},
		{"after, beyond 300", 0, visa + " " + pad(310) + " card", Medium},
		{"window 50", 50, "card " + pad(60) + visa, Medium},
		{"window 1000", 1000, "card " + pad(900) + visa, High},
		{"other identifier's keyword", 0, "IBAN " + visa, Medium},
		{"characters, not bytes", 0, "card " + strings.Repeat("é", 290) + " " + visa, High},
		{"characters, beyond", 0, "card " + strings.Repeat("é", 300) + " " + visa, Medium},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewSet([]string{"credit_card", "iban"}, nil, Options{ProximityWindow: c.window})
			if err != nil {
				t.Fatal(err)
			}
			ms := s.Scan(c.text, nil)
			if len(ms) != 1 {
				t.Fatalf("Scan = %+v, want one match", ms)
			}
			if ms[0].Confidence != c.want {
				t.Errorf("Confidence = %v, want %v", ms[0].Confidence, c.want)
			}
		})
	}
}

func TestProximityManyMatches(t *testing.T) {
	// Several matches sharing and not sharing windows: each is judged by
	// its own window.
	s := mustSet(t, "us_ssn", "credit_card")
	text := "SSN 536-22-1234 and 536-22-1235" + strings.Repeat(" filler", 100) +
		" 536-22-1236 " + strings.Repeat("z", 400) + " card 4111111111111111"
	ms := s.Scan(text, nil)
	got := map[string]Confidence{}
	for _, m := range ms {
		got[text[m.Start:m.End]] = m.Confidence
	}
	want := map[string]Confidence{"536-22-1234": High, "536-22-1235": High, "536-22-1236": Medium, "4111111111111111": High}
	for v, c := range want {
		if got[v] != c {
			t.Errorf("confidence of %s = %v, want %v (all: %v)", v, got[v], c, got)
		}
	}
}

// TestNoRawValue checks that nothing in a Match, printed or not, holds
// the matched value.
func TestNoRawValue(t *testing.T) {
	s := mustSet(t, allNames()...)
	values := []string{"4111111111111111", "GB82WEST12345698765432", "2341 2341 2346"}
	for _, v := range sampleValues {
		values = append(values, v)
	}
	if len(sampleValues) != len(Builtins()) {
		t.Fatalf("%d sample values for %d identifiers", len(sampleValues), len(Builtins()))
	}
	for _, v := range values {
		text := "value " + v + " end"
		ms := s.Scan(text, nil)
		if len(ms) == 0 {
			t.Errorf("Scan(%q): no match", v)
			continue
		}
		canon := canonical(v)
		for _, m := range ms {
			for _, out := range []string{m.Evidence, fmt.Sprintf("%v", m), fmt.Sprintf("%+v", m), fmt.Sprintf("%#v", m)} {
				if strings.Contains(out, v) || strings.Contains(canonical(out), canon) {
					t.Errorf("%s match of %q leaks the value: %s", m.Detector, v, out)
				}
			}
			if len(m.Evidence) >= len(v) && m.Detector != "private_key" {
				t.Errorf("%s evidence %q is not shorter than the value", m.Detector, m.Evidence)
			}
		}
	}
}

func TestKeyDistinct(t *testing.T) {
	s := mustSet(t, "credit_card")
	text := "4111 1111 1111 1111 and 4111111111111111 and 5555555555554444"
	ms := s.Scan(text, nil)
	if len(ms) != 3 {
		t.Fatalf("Scan = %+v, want 3 matches", ms)
	}
	if ms[0].Key != ms[1].Key {
		t.Error("same card written two ways has two keys")
	}
	if ms[0].Key == ms[2].Key {
		t.Error("two cards share a key")
	}
}

func TestEvidence(t *testing.T) {
	s := mustSet(t, allNames()...)
	for _, c := range []struct{ text, want string }{
		{"4111 1111 1111 1111", "****1111"},
		{"GB82 WEST 1234 5698 7654 32", "****5432"},
		{"AKIAIOSFODNN7EXAMPLE", "AKIA****"},
		{"sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_****"},
		{fakeGitHubToken("ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1"), "ghp_****"},
		{strings.TrimSpace(fakePEM("OPENSSH PRIVATE KEY", 100)), "OPENSSH PRIVATE KEY ****"},
	} {
		ms := s.Scan(c.text, nil)
		if len(ms) == 0 || ms[0].Evidence != c.want {
			t.Errorf("Scan(%q) evidence = %+v, want %q", c.text, ms, c.want)
		}
	}
}

func TestMaskTail(t *testing.T) {
	for _, c := range []struct {
		v    string
		keep int
		want string
	}{
		{"4111111111111111", 4, "****1111"},
		{"abc", 4, "****c"},
		{"ab", 4, "****"},
		{"secret", 4, "****et"},
		{"", 4, "****"},
		{"ÄÖÜäöüß", 4, "****üß"},
	} {
		if got := MaskTail(c.v, c.keep); got != c.want {
			t.Errorf("MaskTail(%q, %d) = %q, want %q", c.v, c.keep, got, c.want)
		}
	}
	if got := MaskPrefix("AKIA"); got != "AKIA****" {
		t.Errorf("MaskPrefix = %q", got)
	}
}

func TestSetCustomAndOrder(t *testing.T) {
	kw, err := NewKeywords("project", []string{"Project Falcon"}, KeywordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	re, err := NewRegex("employee_id", `EMP-[0-9]{6}`, High)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSet([]string{"credit_card"}, []Detector{kw, re}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := "EMP-123456 about project falcon paid with 4111111111111111"
	got := spans(text, s.Scan(text, nil))
	want := []string{"credit_card=4111111111111111", "project=project falcon", "employee_id=EMP-123456"}
	if !slices.Equal(got, want) {
		t.Errorf("Scan = %q, want %q", got, want)
	}
	// dst is appended to, not replaced.
	pre := []Match{{Detector: "x"}}
	if out := s.Scan(text, pre); len(out) != 4 || out[0].Detector != "x" {
		t.Errorf("Scan(text, pre) = %+v", out)
	}
	if _, err := NewSet(nil, []Detector{nil}, Options{}); err == nil {
		t.Error("NewSet with a nil custom detector: no error")
	}
}

func TestSetConcurrent(t *testing.T) {
	s := mustSet(t, allNames()...)
	text := "card 4111111111111111 SSN 536-22-1234 IBAN GB82WEST12345698765432"
	done := make(chan []Match)
	for range 4 {
		go func() {
			var ms []Match
			for range 50 {
				ms = s.Scan(text, ms[:0])
			}
			done <- ms
		}()
	}
	for range 4 {
		if ms := <-done; len(ms) != 3 {
			t.Errorf("concurrent Scan = %+v, want 3 matches", ms)
		}
	}
}

func TestKeywordPunctuation(t *testing.T) {
	s := mustSet(t, "gcp_api_key")
	ms := s.Scan("https://example.com/v1?key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", nil)
	if len(ms) != 1 || ms[0].Confidence != High {
		t.Fatalf("Scan = %+v, want one high match (keyword key=)", ms)
	}
}

func TestKeywordInsideMatchIgnored(t *testing.T) {
	// The armour says PRIVATE KEY itself; that is not supporting evidence.
	s := mustSet(t, "private_key")
	text := "see attached\n" + fakePEM("RSA PRIVATE KEY", 300)
	ms := s.Scan(text, nil)
	if len(ms) != 1 || ms[0].Confidence != Medium {
		t.Fatalf("Scan = %+v, want one medium match", ms)
	}
	ms = s.Scan("my ssh key:\n"+fakePEM("OPENSSH PRIVATE KEY", 300), nil)
	if len(ms) != 1 || ms[0].Confidence != High {
		t.Fatalf("Scan with keyword = %+v, want one high match", ms)
	}
}

// TestScanCleanNoAlloc checks that text without candidates costs no
// allocation.
func TestScanCleanNoAlloc(t *testing.T) {
	s := mustSet(t, allNames()...)
	text := businessText(64 << 10)
	dst := make([]Match, 0, 16)
	if n := testing.AllocsPerRun(20, func() { dst = s.Scan(text, dst[:0]) }); n != 0 {
		t.Errorf("Scan of clean text: %v allocations, want 0", n)
	}
	if len(dst) != 0 {
		t.Errorf("clean text: %d matches, want 0: %+v", len(dst), dst[:min(len(dst), 5)])
	}
}

// sampleValues holds one valid value per identifier, for tests that need
// one of each.
var sampleValues = map[string]string{
	"credit_card": luhnComplete("453201511283036"), "iban": "GB82 WEST 1234 5698 7654 32", "us_ssn": "536-22-1234",
	"us_itin": "912-70-1234", "aba_routing": "021000021", "swift_bic": "BNPAFRPPXXX", "uk_nino": "JG103759A",
	"uk_nhs": "401 023 2137", "de_steuer_id": "36574261809", "fr_nir": "295109912611193", "es_dni": "87654321X",
	"es_nie": "Y1234567X", "it_codice_fiscale": "RSSMRA85T10A562S", "nl_bsn": "111222333", "pl_pesel": "44051401359",
	"ca_sin": luhnComplete("13045428"), "au_tfn": "123456782", "in_aadhaar": "2341 2341 2346", "in_pan": "BNZPM2501F",
	"aws_access_key": "AKIAQWERTY234567ABCD", "aws_secret_key": "Zq3+8hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5K",
	"gcp_api_key": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "github_token": fakeGitHubToken("ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1"),
	"slack_token":   "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1",
	"slack_webhook": "hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
	"stripe_key":    "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "jwt": fakeJWT(`{"alg":"RS256"}`, `{"sub":"u1"}`),
	"private_key": strings.TrimSpace(fakePEM("EC PRIVATE KEY", 200)),
}

// TestEveryKeyword checks, for every identifier and every one of its
// keywords, that the keyword before a valid value raises it to High and
// that the value alone is below High.
func TestEveryKeyword(t *testing.T) {
	for _, info := range Builtins() {
		v, ok := sampleValues[info.Name]
		if !ok {
			t.Errorf("no sample value for %s", info.Name)
			continue
		}
		d, _ := New(info.Name, Options{})
		alone := find(d.Scan("value "+v+" end", nil), info.Name)
		if len(alone) != 1 || alone[0].Confidence >= High {
			t.Errorf("%s: Scan(%q) = %+v, want one match below high", info.Name, v, alone)
			continue
		}
		for _, kw := range info.Keywords {
			for _, text := range []string{kw + " : " + v + " end", "value " + v + " ; " + strings.ToUpper(kw)} {
				ms := find(d.Scan(text, nil), info.Name)
				if len(ms) != 1 || ms[0].Confidence != High {
					t.Errorf("%s: Scan(%q) = %+v, want one high match", info.Name, text, ms)
				}
			}
		}
	}
}
