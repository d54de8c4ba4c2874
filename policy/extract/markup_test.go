package extract

import (
	"fmt"
	"strings"
	"testing"
)

// TestIssue7MarkupBetweenGroups: a number whose groups are separated by
// Markdown emphasis or code marks is scanned as the number a reader sees,
// in a part of its own beside the text as written.
func TestIssue7MarkupBetweenGroups(t *testing.T) {
	c := luhnCard("454683639745935")
	body := "card numbers: `" + c[:4] + "`**" + c[4:8] + "**_" + c[8:12] + "_" + c[12:] + "\r\nnothing *here* 2 * 3\r\n"
	res := run(t, []byte("Subject: x\r\n\r\n"+body), Limits{})
	checkParts(t, res, []want{{"body > markup removed", "card numbers: `" + c + "\n"}})
	for _, p := range res.Parts {
		if strings.Contains(p.Text, "nothing") && strings.Contains(p.Location, "markup") {
			t.Errorf("a line without marks between digits was repeated: %q", p.Text)
		}
	}
	res = run(t, []byte("Subject: x\r\n\r\nplain *text* 2024_11 **bold**\r\n"), Limits{})
	for _, p := range res.Parts {
		if strings.Contains(p.Location, "markup") && !strings.Contains(p.Text, "202411") {
			t.Errorf("unexpected markup part %q: %q", p.Location, p.Text)
		}
	}
}

func TestJoinMarks(t *testing.T) {
	for in, want := range map[string]string{
		"1*2":         "12",
		"a*b":         "",
		"1*****2":     "",
		"`1`**2**_3_": "`123_",
		"*1*":         "",
		"1~~2 3__4":   "12 34",
	} {
		got, ok := joinMarks(in)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("joinMarks(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzMarkupJoined: the joined lines are the input's lines with only
// marks removed, never longer, and a line without a mark between digits
// is never repeated.
func FuzzMarkupJoined(f *testing.F) {
	f.Add("`4546`**8363**_9745_9355\nx *y* 1_2\n")
	f.Add("1*2*3*4*5\r\n***\n")
	f.Fuzz(func(t *testing.T, s string) {
		out := markupJoined(&meter{}, s)
		if len(out) > len(s)+strings.Count(s, "\n")+1 {
			t.Fatalf("output longer than input: %d > %d", len(out), len(s))
		}
		for line := range strings.Lines(out) {
			line = strings.TrimSuffix(line, "\n")
			found := false
			for in := range strings.Lines(s) {
				in = strings.TrimRight(in, "\r\n")
				if strings.Map(dropMark, in) == strings.Map(dropMark, line) && len(line) < len(in) {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("line %q is not an input line with marks removed", line)
			}
		}
	})
}

func dropMark(r rune) rune {
	if r < 0x80 && isMark(byte(r)) {
		return -1
	}
	return r
}

func init() {
	addCostCase("issue 7 markup between digits", 64<<10, func(n int) []byte {
		return fmt.Appendf(nil, "Subject: x\r\n\r\n%s", strings.Repeat("1*2_3`", n/6))
	})
}
