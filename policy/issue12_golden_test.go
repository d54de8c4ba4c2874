package policy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/corpus"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/issue12_extract.golden")

const goldenFile = "testdata/issue12_extract.golden"

// goldenMessages are the messages whose extraction and detections the
// golden file pins: the benchmark mixes, the clean and bulk corpus, the
// positive corpus (every detector, every location) and hostile shapes.
func goldenMessages() []struct {
	name string
	raw  []byte
} {
	var out []struct {
		name string
		raw  []byte
	}
	add := func(name string, raw []byte) {
		out = append(out, struct {
			name string
			raw  []byte
		}{name, sameBoundaries(raw)})
	}
	add("bench/attachment-mix", attachmentMix())
	add("bench/small", smallMessage())
	for _, d := range append(corpus.CleanDocs(120), corpus.BulkDocs()...) {
		add("clean/"+d.Name, d.Doc.Message(d.Envelope))
	}
	var names []string
	for _, info := range detect.Builtins() {
		names = append(names, info.Name)
	}
	for _, c := range corpus.Positive(names) {
		add("positive/"+c.Name, c.Raw)
	}
	// Documents in the shapes the readers special-case.
	text := businessText(20<<10, 11)
	lines := strings.Split(text, "\r\n")
	var rows [][]string
	for i, l := range lines {
		rows = append(rows, []string{fmt.Sprint(i), l, "4111111111111111", "1.2E+15", "a &amp; b"})
	}
	var paras [][]string
	for _, l := range lines {
		paras = append(paras, []string{l, "&lt;x&gt; &#x41;&#66;"})
	}
	add("docs/office", testutil.NewMessage().Text("see attached").
		Attach("a.xlsx", "application/octet-stream", testutil.XLSX(testutil.Sheet{Name: "S&amp;1", Rows: rows})).
		Attach("b.docx", "application/octet-stream", testutil.DOCX(paras...)).
		Attach("c.pdf", "application/pdf", testutil.PDF(lines...)).
		Attach("d.zip", "application/zip", testutil.Zip(
			testutil.File{Name: "in/e.docx", Data: testutil.DOCX(paras[:10]...)},
			testutil.File{Name: "f.txt", Data: []byte(text)},
		)).Bytes())
	body := `<w:p><w:r><w:t>41</w:t></w:r><w:r><w:t>11 &amp; <![CDATA[<raw> & 1111]]></w:t></w:r></w:p>` +
		`<!-- a comment --><w:p><w:fldSimple w:instr=" HYPERLINK 4111111111111111 "><w:r><w:instrText>PAGE 12</w:instrText></w:r></w:fldSimple>` +
		`<wp:docPr id="1" name="Picture 1" descr="IBAN DE89 3704 0044 0532 0130 00"/><w:tab/><w:r><w:t xml:space="preserve"> tail </w:t></w:r></w:p>` +
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell 1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>cell &#x32;</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`
	odt := testutil.Zip(
		testutil.File{Name: "mimetype", Data: []byte("application/vnd.oasis.opendocument.text")},
		testutil.File{Name: "content.xml", Data: []byte(`<?xml version="1.0"?><office:document-content><office:automatic-styles><s>x</s></office:automatic-styles><office:body><office:text>` +
			`<text:p>card <text:span>4111</text:span> 1111<text:s text:c="3"/>1111 1111</text:p><text:h>Head &lt;1&gt;</text:h></office:text></office:body></office:document-content>`)},
		testutil.File{Name: "meta.xml", Data: []byte(`<office:meta><dc:title>Title</dc:title></office:meta>`)},
	)
	add("docs/markup", testutil.NewMessage().Text("see attached").
		Attach("g.docx", "application/octet-stream", testutil.DOCXBody(body)).
		Attach("h.odt", "application/octet-stream", odt).Bytes())
	return out
}

// builtBoundary is the MIME boundary the message builders number from a
// process-wide counter, which the tests run before move.
var builtBoundary = regexp.MustCompile(`=_boundary_[0-9]+`)

// sameBoundaries numbers the built boundaries of a message from 0, so
// that it is the same message whatever ran before.
func sameBoundaries(raw []byte) []byte {
	seen := map[string]string{}
	return builtBoundary.ReplaceAllFunc(raw, func(b []byte) []byte {
		r, ok := seen[string(b)]
		if !ok {
			r = fmt.Sprintf("=_boundary_%04d", len(seen))
			seen[string(b)] = r
		}
		return []byte(r)
	})
}

// resultDigest hashes everything a scan reports except its work count:
// header fields, parts (location, kind, type, name, size, text),
// unscannable entries and the engine's detections.
func resultDigest(t *testing.T, e *Engine, raw []byte) string {
	t.Helper()
	h := sha256.New()
	res, err := extract.Extract(context.Background(), bytes.NewReader(raw), e.Limits())
	fmt.Fprintf(h, "err %v bytes %d\n", err, res.Bytes)
	for _, f := range res.Header {
		fmt.Fprintf(h, "header %q %q\n", f.Name, f.Value)
	}
	for _, p := range res.Parts {
		fmt.Fprintf(h, "part %q %v %q %q %d %q\n", p.Location, p.Kind, p.MIMEType, p.Filename, p.Size, p.Text)
	}
	for _, u := range res.Unscannable {
		fmt.Fprintf(h, "unscannable %q %v %q %q\n", u.Location, u.Reason, u.Detail, u.MIMEType)
	}
	v := e.Evaluate(context.Background(), Message{
		Envelope: Envelope{MailFrom: "alice@example.com", Rcpts: []string{"bob@partner.example.net"}},
		Body:     bytes.NewReader(raw),
	})
	fmt.Fprintf(h, "verdict %v %v\n", v.Action, v.Err)
	for _, d := range v.Detections {
		fmt.Fprintf(h, "detection %+v\n", d)
	}
	for _, u := range v.Unscannable {
		fmt.Fprintf(h, "verdict unscannable %+v\n", u)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// TestIssue12ExtractionUnchanged pins what the engine extracts and
// detects on a corpus, so that changes made for speed are proven to keep
// every part, text and detection byte for byte. Regenerate with
// -update-golden only for a change meant to alter the output.
func TestIssue12ExtractionUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus scan")
	}
	cfg := defaultEngineConfig(t)
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, m := range goldenMessages() {
		fmt.Fprintf(&got, "%s %s\n", resultDigest(t, e, m.raw), m.name)
	}
	path := filepath.FromSlash(goldenFile)
	if *updateGolden {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wl := lines(want)
	gl := lines(got.Bytes())
	if len(wl) != len(gl) {
		t.Fatalf("%d messages, golden file has %d", len(gl), len(wl))
	}
	bad := 0
	for i := range gl {
		if gl[i] != wl[i] {
			bad++
			if bad <= 10 {
				t.Errorf("output changed: got %s, want %s", gl[i], wl[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d messages changed", bad, len(gl))
	}
}

func lines(b []byte) []string {
	var out []string
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		out = append(out, s.Text())
	}
	return out
}

func defaultEngineConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
