package extract

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// noDeadline is a meter deadline that never comes.
var noDeadline time.Time

func pastDeadline() time.Time { return time.Now().Add(-time.Second) }

// htmlMessage is a message whose HTML body is doc.
func htmlMessage(doc []byte) []byte {
	return testutil.NewMessage().HTML(string(doc)).Bytes()
}

// docxMessage is a message with a DOCX attachment whose body is the given
// WordprocessingML.
func docxMessage(bodyXML []byte) []byte {
	return testutil.NewMessage().Text("see attached").
		Attach("a.docx", "application/octet-stream", testutil.DOCXBody(string(bodyXML))).Bytes()
}

// Hostile HTML and Office inputs, each at n and 8n (see cost_test.go).
func init() {
	addCostCase("html unclosed comments", 32<<10, func(n int) []byte {
		return htmlMessage(bytes.Repeat([]byte("<!--"), n/4))
	})
	addCostCase("html comment never closed", 64<<10, func(n int) []byte {
		return htmlMessage(append([]byte("<p>x</p><!--"), bytes.Repeat([]byte("a-"), n/2)...))
	})
	addCostCase("html unclosed tags", 32<<10, func(n int) []byte {
		return htmlMessage(bytes.Repeat([]byte("<"), n))
	})
	addCostCase("html deep nesting", 32<<10, func(n int) []byte {
		return htmlMessage([]byte(strings.Repeat("<div><span>", n/11) + "x"))
	})
	addCostCase("html many attributes", 32<<10, func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("<p ")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "data-a%d='%d' ", i, i)
		}
		b.WriteString(">x</p>")
		return htmlMessage(b.Bytes())
	})
	addCostCase("html many hidden elements", 32<<10, func(n int) []byte {
		return htmlMessage(bytes.Repeat([]byte(`<span style="display:none">1</span>`), n/36))
	})
	addCostCase("html ampersands", 64<<10, func(n int) []byte {
		return htmlMessage(bytes.Repeat([]byte("&"), n))
	})
	addCostCase("html entity names", 64<<10, func(n int) []byte {
		return htmlMessage(bytes.Repeat([]byte("&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), n/32))
	})
	addCostCase("html script never closed", 64<<10, func(n int) []byte {
		return htmlMessage(append([]byte("<script>"), bytes.Repeat([]byte("</scrip "), n/8)...))
	})
	addCostCase("docx ampersands", 64<<10, func(n int) []byte {
		return docxMessage([]byte("<w:p><w:r><w:t>" + strings.Repeat("&", n) + "</w:t></w:r></w:p>"))
	})
	addCostCase("docx unclosed comments", 32<<10, func(n int) []byte {
		return docxMessage(bytes.Repeat([]byte("<!--"), n/4))
	})
	addCostCase("docx unclosed cdata", 32<<10, func(n int) []byte {
		return docxMessage(bytes.Repeat([]byte("<![CDATA["), n/9))
	})
	addCostCase("docx unclosed quotes", 32<<10, func(n int) []byte {
		return docxMessage(bytes.Repeat([]byte(`<a b="`), n/6))
	})
	addCostCase("docx deep nesting", 32<<10, func(n int) []byte {
		return docxMessage([]byte(strings.Repeat("<w:p><w:r><w:t>", n/15)))
	})
	addCostCase("docx many attributes", 32<<10, func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("<w:p ")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, `a%d="&amp;%d" `, i, i)
		}
		b.WriteString("/>")
		return docxMessage(b.Bytes())
	})
	addCostCase("xlsx cells repeating a long shared string", 256, func(n int) []byte {
		// n cells, each a reference to a 4 KiB string: the text grows
		// with the cells, and stops at max_text_bytes.
		var sheet bytes.Buffer
		sheet.WriteString(`<worksheet><sheetData><row>`)
		for range n {
			sheet.WriteString(`<c t="s"><v>0</v></c>`)
		}
		sheet.WriteString(`</row></sheetData></worksheet>`)
		x := testutil.AddMembers(testutil.XLSX(testutil.Sheet{Name: "S", Rows: [][]string{{"x"}}}),
			testutil.File{Name: "xl/sharedStrings.xml", Data: []byte(`<sst><si><t>` + strings.Repeat("a", 4096) + `</t></si></sst>`)},
			testutil.File{Name: "xl/worksheets/sheet1.xml", Data: sheet.Bytes()})
		return testutil.NewMessage().Text("x").Attach("a.xlsx", "application/octet-stream", x).Bytes()
	})
	addCostCase("docx with many members", 64, func(n int) []byte {
		var files []testutil.File
		for i := range n {
			files = append(files, testutil.File{Name: fmt.Sprintf("customXml/item%d.xml", i), Data: []byte("<a>x</a>")})
		}
		return testutil.NewMessage().Text("x").Attach("a.docx", "application/octet-stream",
			testutil.AddMembers(testutil.DOCX([]string{"x"}), files...)).Bytes()
	})
}

// TestIssue7DocxAmpersandsLinear: the DOCX of 1 MB of '&' (4.7 s of CPU
// before) costs work in proportion to its size.
func TestIssue7DocxAmpersandsLinear(t *testing.T) {
	text := bytes.Repeat([]byte("&"), 1<<20)
	m := newMeter(nil, noDeadline)
	got := runText(m, append(append([]byte("<w:t>"), text...), "</w:t>"...), docxRoles, false)
	if len(got) != len(text) {
		t.Errorf("runText kept %d of %d '&'", len(got), len(text))
	}
	if w := m.total(); w > 2*int64(len(text)) {
		t.Errorf("work %d for %d bytes", w, len(text))
	}
}

// TestIssue7EntityBounded: references longer than maxEntity are kept as
// written, shorter ones decoded.
func TestIssue7EntityBounded(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a&amp;b", "a&b"},
		{"&#x34;&#0000000000000000000049;", "41"},
		{"&" + strings.Repeat("x", 40) + ";", "&" + strings.Repeat("x", 40) + ";"},
		{"&&&;", "&&&;"},
		{"&unknown;", "&unknown;"},
	}
	for _, tc := range tests {
		if got := string(appendUnescaped(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("appendUnescaped(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestIssue7XMLStopsAtDeadline: the XML readers end at the deadline and
// the walk records the timeout.
func TestIssue7XMLStopsAtDeadline(t *testing.T) {
	data := bytes.Repeat([]byte("<w:p><w:r><w:t>x</w:t></w:r></w:p>"), 1<<13)
	for name, read := range map[string]func(m *meter) int{
		"runText":    func(m *meter) int { return len(runText(m, data, docxRoles, false)) },
		"anyXMLText": func(m *meter) int { return len(anyXMLText(m, data)) },
		"sheetText":  func(m *meter) int { s, _ := sheetText(m, data, nil, 1<<20); return len(s) },
		"shared":     func(m *meter) int { return len(sharedStrings(m, data).items) },
	} {
		m := newMeter(nil, pastDeadline())
		read(m)
		if !m.done() || m.total() > int64(len(data))/2 {
			t.Errorf("%s: work %d of %d bytes after the deadline", name, m.total(), len(data))
		}
	}
	lim := DefaultLimits()
	lim.ScanTimeout = time.Nanosecond
	res := run(t, docxMessage(data), lim)
	var timedOut bool
	for _, u := range res.Unscannable {
		timedOut = timedOut || u.Reason == Timeout
	}
	if !timedOut {
		t.Errorf("no timeout recorded:\n%s", dump(res))
	}
}
