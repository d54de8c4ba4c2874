package extract

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/maildlp/maildlp/internal/testutil"
)

// htmlSections splits htmlText's output into its visible text and the
// rest (hidden text, then the text of the markup).
func htmlSections(doc string) (visible, rest string) {
	visible, rest, _ = strings.Cut(htmlText(nil, []byte(doc)), "\n\n")
	return visible, rest
}

// TestIssue7HTMLMarkupScanned: every place of an HTML document a sender
// can write into is read, each item on a line of its own after the
// visible text.
func TestIssue7HTMLMarkupScanned(t *testing.T) {
	tests := []struct{ name, html, want string }{
		{"comment", "<p>hello</p><!-- card " + card + " -->", " card " + card + " "},
		{"style", "<style>/* " + card + " */ p{}</style><p>x</p>", "/* " + card + " */ p{}"},
		{"script", "<script>var c = '" + card + "';</script><p>x</p>", "var c = '" + card + "';"},
		{"template", "<template><p>" + card + "</p></template><p>x</p>", card},
		{"title", "<html><head><title>" + card + "</title></head><body>x</body></html>", card},
		{"data attribute", `<div data-card="` + card + `">x</div>`, card},
		{"any attribute", `<p class="` + card + `" style="color:red" id="c` + card + `">x</p>`, "c" + card},
		{"attribute of a hidden element", `<div hidden data-x="` + card + `">x</div>`, card},
		{"end tag attribute", `<p>x</p title="` + card + `">`, card},
		{"doctype", `<!DOCTYPE html ` + card + `><p>x</p>`, card},
		{"processing instruction", `<?xml ` + card + ` ?><p>x</p>`, card},
		{"unclosed comment", `<p>x</p><!-- ` + card, card},
		{"noscript is visible", `<noscript>` + card + `</noscript>`, card},
		{"entity in attribute", `<a href="/pay?c=4111&#49;111111111111">x</a>`, "/pay?c=" + card},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := htmlText(nil, []byte(tc.html))
			if !strings.Contains(got, tc.want) {
				t.Errorf("htmlText(%q) = %q, want it to contain %q", tc.html, got, tc.want)
			}
			// Through the whole walk, as a body part.
			res := run(t, testutil.NewMessage().HTML(tc.html).Bytes(), Limits{})
			if body, _ := textAt(res, "body"); !strings.Contains(body, strings.TrimSpace(tc.want)) {
				t.Errorf("body = %q, want it to contain %q", body, tc.want)
			}
		})
	}
}

// TestIssue7HTMLSplitValues: values split by markup read as a browser
// renders them.
func TestIssue7HTMLSplitValues(t *testing.T) {
	tests := []struct{ name, html, visible, rest string }{
		{"comment inside a number", "<p>4111<!-- x -->1111<!---->1111<!--y-->1111</p>", card, " x \ny"},
		{"comment text does not glue onto visible text", "<p>Card<!--9-->: 4111 1111 1111 1111</p>", "Card: 4111 1111 1111 1111", "9"},
		{"table cells of a row on one line",
			"<table><tr><td>4111</td><td>1111</td><td>1111</td><td>1111</td></tr></table>", "4111\t1111\t1111\t1111", ""},
		{"rows on lines of their own, header row one line",
			"<table>\n <thead><tr>\n  <th>Name</th>\n  <th>Card number</th>\n </tr></thead>\n <tr>\n  <td>Ann</td>\n  <td>4111 1111 1111 1111</td>\n </tr>\n <tr><td>Bob</td><td>5500 0000 0000 0004</td></tr>\n</table>",
			"Name\tCard number\nAnn\t4111 1111 1111 1111\nBob\t5500 0000 0000 0004", ""},
		{"empty cells keep their column",
			"<table><tr><th>A</th><th>B</th><th>C</th></tr><tr><td></td><td> x </td><td>y</td></tr><tr><td>1</td><td></td><td></td></tr></table>", "A\tB\tC\n\tx\ty\n1\t\t", ""},
		{"cells with inline markup", "<table><tr><td><b>4111</b></td><td><span>1111</span></td><td><font color=red>1111</font></td><td>11<i>11</i></td></tr></table>", "4111\t1111\t1111\t1111", "red"},
		{"inline tags", "<p>41<span>11</span><b>11</b><font>11</font><em>1</em>1<u>1</u>1<wbr>1111</p>", card, ""},
		{"white space collapses", "<p>4111\n    1111\t\t1111  \r\n 1111</p>", "4111 1111 1111 1111", ""},
		{"pre keeps white space", "<pre>a\n  b</pre>", "a\n  b", ""},
		{"hidden block does not break the line", `<p>4111<div style="display:none">0</div>1111 1111 1111</p>`, "41111111 1111 1111", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vis, rest := htmlSections(tc.html)
			if vis != tc.visible {
				t.Errorf("htmlText(%q) visible = %q, want %q", tc.html, vis, tc.visible)
			}
			if tc.rest != "" && !strings.Contains(rest, tc.rest) {
				t.Errorf("htmlText(%q) rest = %q, want it to contain %q", tc.html, rest, tc.rest)
			}
		})
	}
}

// TestIssue7HTMLHiddenStaysScanned: text hidden by CSS is read, after the
// visible text.
func TestIssue7HTMLHiddenStaysScanned(t *testing.T) {
	doc := `<p>x<span style="display:none">` + card + `</span><div style="visibility: hidden">5500 0000 0000 0004</div><p hidden>4012888888881881</p></p>`
	got := htmlText(nil, []byte(doc))
	for _, want := range []string{card, "5500 0000 0000 0004", "4012888888881881"} {
		if !strings.Contains(got, want) {
			t.Errorf("htmlText(%q) = %q, want it to contain %q", doc, got, want)
		}
	}
}

// TestIssue7HTMLStopsAtDeadline: the tokenizer loop ends when the meter
// says so and returns what it read.
func TestIssue7HTMLStopsAtDeadline(t *testing.T) {
	m := newMeter(nil, pastDeadline())
	doc := strings.Repeat("<p>text</p>", 1<<15) // more than meterCheckEvery bytes
	got := htmlText(m, []byte(doc))
	if !m.done() {
		t.Fatal("meter not expired")
	}
	if len(got) >= len("text")*(1<<15) {
		t.Errorf("htmlText read the whole document after its deadline (%d bytes of text)", len(got))
	}
}

// FuzzHTMLText checks htmlText on any input (valid UTF-8 once
// normalised, work bounded by the input) and, on a document generated
// from the input, that every word placed in it comes out: as visible
// text, hidden text, a comment, script, or an attribute value.
func FuzzHTMLText(f *testing.F) {
	f.Add([]byte(`<p>4111<b>1111</b><!-- c --><script>x</script>&#x34;&nbsp;<img alt="a"></p>`), "alpha beta 4111", uint64(0))
	f.Add([]byte("<table><tr><td>a</td><td>b</td></tr></table><!--"), "x y z", uint64(12345))
	f.Add([]byte(`<div data-x='1' hidden><pre> a </pre></div></p title="t">`), "one two three four five", uint64(987654321))
	f.Fuzz(func(t *testing.T, data []byte, words string, choice uint64) {
		m := newMeter(nil, noDeadline)
		if s := Normalize(htmlText(m, data)); !utf8.ValidString(s) {
			t.Fatalf("htmlText(%q) is not valid UTF-8", data)
		}
		if w := m.total(); w > 4*int64(len(data))+64 {
			t.Fatalf("htmlText(%q): work %d for %d bytes", data, w, len(data))
		}
		doc, placed := htmlFromWords(words, choice)
		got := htmlText(nil, []byte(doc))
		for _, w := range placed {
			if !strings.Contains(got, w) {
				t.Fatalf("htmlText(%q) = %q lost %q", doc, got, w)
			}
		}
	})
}

// htmlFromWords builds a document that places each alphanumeric word of
// words in a context chosen by choice, and returns the words placed.
func htmlFromWords(words string, choice uint64) (string, []string) {
	contexts := []string{
		"<p>%s</p>", "<b>%s</b>", "<td>%s</td>", "<!--%s-->", "<script>%s</script>",
		"<style>%s</style>", "<span style=\"display:none\">%s</span>", "<img alt=\"%s\">",
		"<div data-v='%s'></div>", "<title>%s</title>", "<pre>%s</pre>", "<i hidden>%s</i>",
		"<a href=\"/%s\">x</a>", "<template>%s</template>", "<textarea>%s</textarea>", "<li>%s",
	}
	var b strings.Builder
	var placed []string
	for _, w := range strings.Fields(words) {
		w = strings.Map(func(r rune) rune {
			if r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
				return r
			}
			return -1
		}, w)
		if w == "" {
			continue
		}
		fmt.Fprintf(&b, contexts[choice%uint64(len(contexts))], w)
		b.WriteByte(' ')
		choice = choice/uint64(len(contexts)) + uint64(len(w))*7
		placed = append(placed, w)
	}
	return b.String(), placed
}
