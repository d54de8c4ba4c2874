package action

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRenderClassAndDefaults(t *testing.T) {
	tests := []struct {
		name string
		r    Reply
		def  Reply
		inc  string
		want string
	}{
		{"policy text and incident", Reply{Code: 554, Enhanced: "5.7.0", Text: "no cards"}, PolicyBlock, "ABC123",
			"554 5.7.0 no cards (incident ABC123)"},
		{"incident already named", Reply{Code: 550, Enhanced: "5.7.1", Text: "see ABC123"}, PolicyBlock, "ABC123",
			"550 5.7.1 see ABC123"},
		{"code of the wrong class", Reply{Code: 451, Enhanced: "4.7.1", Text: "x"}, PolicyBlock, "",
			"550 5.7.1 x"},
		{"enhanced of the wrong class", Reply{Code: 451, Enhanced: "5.7.1", Text: "x"}, PolicyTempFail, "",
			"451 4.7.1 x"},
		{"malformed enhanced", Reply{Code: 550, Enhanced: "5.07.1", Text: "x"}, PolicyBlock, "",
			"550 5.7.1 x"},
		{"empty reply", Reply{}, PolicyTempFail, "I1",
			"451 4.7.1 Message deferred by policy, try again later (incident I1)"},
		{"multi-line", Reply{Code: 550, Enhanced: "5.7.1", Text: "\nfirst\r\nsecond\n\n"}, PolicyBlock, "",
			"550-5.7.1 first\r\n550 5.7.1 second"},
		{"control characters", Reply{Code: 550, Enhanced: "5.7.1", Text: "a\x00b\rc\x7fd\te"}, PolicyBlock, "",
			"550 5.7.1 a b c d e"},
	}
	for _, tt := range tests {
		if got := Render(tt.r, tt.def, tt.inc, false).String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestIssue9NonASCIIReply: a policy name with non-ASCII characters reaches
// the reply only when the session negotiated SMTPUTF8 (RFC 6531 section
// 3.7.4.1); otherwise each character is one '?'. Invalid UTF-8 and C1
// controls never reach the wire.
func TestIssue9NonASCIIReply(t *testing.T) {
	r := Reply{Code: 550, Enhanced: "5.7.1", Text: "refusé par Datenschütz \xff\xfe \u0085x \u2028y"}
	if got, want := Render(r, PolicyBlock, "", false).String(), "550 5.7.1 refus? par Datensch?tz ?? ?x ?y"; got != want {
		t.Errorf("ASCII session: got %q, want %q", got, want)
	}
	if got, want := Render(r, PolicyBlock, "", true).String(), "550 5.7.1 refusé par Datenschütz ??  x  y"; got != want {
		t.Errorf("SMTPUTF8 session: got %q, want %q", got, want)
	}
}

func TestRenderWrapsLongLines(t *testing.T) {
	long := strings.Repeat("word ", 300) + strings.Repeat("x", 1000) + "é"
	w := Render(Reply{Code: 550, Enhanced: "5.7.1", Text: long}, PolicyBlock, "INC", true)
	for i, l := range w.Lines {
		if len(l) > maxLineText {
			t.Errorf("line %d is %d bytes", i, len(l))
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d cut inside a character", i)
		}
	}
	if !strings.HasSuffix(w.Text(), "(incident INC)") {
		t.Errorf("incident id lost in wrapping: %q", w.Lines[len(w.Lines)-1])
	}
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
	if squeeze(w.Text()) != squeeze(long+" (incident INC)") {
		t.Error("wrapping lost text")
	}
}

// TestIssue9ReplyPercentWidth: a '%' counts twice in the line width, so a
// reply the milter protocol sends with every '%' doubled is not wrapped
// again by go-milter (950 bytes) and reads the same from both front ends.
func TestIssue9ReplyPercentWidth(t *testing.T) {
	w := Render(Reply{Code: 550, Enhanced: "5.7.1", Text: strings.Repeat("%", 700)}, PolicyBlock, "", false)
	for i, l := range w.Lines {
		if n := len(l) + strings.Count(l, "%"); n > maxLineText {
			t.Errorf("line %d is %d bytes once doubled", i, n)
		}
	}
	if got := strings.Join(w.Lines, ""); got != strings.Repeat("%", 700) {
		t.Errorf("text changed: %d bytes", len(got))
	}
}

// TestIssue9ReplyNoEmptyLines: empty lines are dropped (the milter path
// and the hop would write them differently), and a text with nothing
// printable falls back to the default text.
func TestIssue9ReplyNoEmptyLines(t *testing.T) {
	w := Render(Reply{Code: 550, Enhanced: "5.7.1", Text: "a\n\n \nb"}, PolicyBlock, "", false)
	if got, want := w.String(), "550-5.7.1 a\r\n550 5.7.1 b"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	w = Render(Reply{Code: 550, Enhanced: "5.7.1", Text: "\x01\x02"}, PolicyBlock, "", false)
	if got, want := w.String(), "550 5.7.1 Message refused by policy"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestVerdictRefusal(t *testing.T) {
	v := Verdict{Action: Quarantine, IncidentID: "Q1", Reply: Reply{}}
	if got := v.Refusal(TempFail, false).String(); got != "451 4.7.1 Message deferred by policy, try again later (incident Q1)" {
		t.Errorf("tempfail: %q", got)
	}
	v = Verdict{Action: Block, IncidentID: "B1", Reply: Reply{Code: 552, Enhanced: "5.3.4", Text: "too big"}}
	if got := v.Refusal(Block, false).String(); got != "552 5.3.4 too big (incident B1)" {
		t.Errorf("block: %q", got)
	}
	// A block verdict applied as a tempfail (a failure outcome) keeps the
	// tempfail class.
	if got := v.Refusal(TempFail, false).String(); got != "451 4.7.1 too big (incident B1)" {
		t.Errorf("block applied as tempfail: %q", got)
	}
}

// FuzzRender: whatever a policy text or an incident id holds, the reply
// is of the default's class, every line is printable, bounded and valid
// UTF-8 (ASCII without SMTPUTF8), and the incident id is in the text.
func FuzzRender(f *testing.F) {
	f.Add(550, "5.7.1", "refused\nby policy", "INC1", false)
	f.Add(451, "4.7.1", "é\x00\r\n\u2028", "", true)
	f.Add(0, "", "", "X", false)
	f.Fuzz(func(t *testing.T, code int, enh, text, incident string, smtputf8 bool) {
		for _, def := range []Reply{PolicyBlock, PolicyTempFail} {
			w := Render(Reply{Code: code, Enhanced: enh, Text: text}, def, incident, smtputf8)
			if w.Code/100 != def.Code/100 || !validEnhanced(w.Enhanced, def.Code/100) {
				t.Fatalf("class: %d %s for default %d", w.Code, w.Enhanced, def.Code)
			}
			if len(w.Lines) == 0 {
				t.Fatal("no lines")
			}
			for _, l := range w.Lines {
				if l == "" || len(l)+strings.Count(l, "%") > maxLineText || !utf8.ValidString(l) {
					t.Fatalf("bad line %q", l)
				}
				for _, r := range l {
					if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || (!smtputf8 && r >= 0x80) {
						t.Fatalf("unsafe rune %U in %q", r, l)
					}
				}
			}
			squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
			clean := strings.Join(replyLines(incident, smtputf8), " ")
			if incident != "" && !strings.Contains(squeeze(w.Text()), squeeze(clean)) {
				t.Fatalf("incident %q not in %q", incident, w.Text())
			}
		}
	})
}
