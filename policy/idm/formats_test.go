package idm

import (
	"archive/zip"
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/corpus"
	"github.com/maildlp/maildlp/policy/extract"
)

// scanMessage extracts a message and matches every part.
func scanMessage(t *testing.T, ix *Index, msg []byte) map[int]Hit {
	t.Helper()
	res, err := extract.Extract(context.Background(), bytes.NewReader(msg), extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, p := range res.Parts {
		parts = append(parts, p.Text)
	}
	return scan(ix, parts...)
}

// TestIssue13Formats: a document indexed from its text is found in every
// envelope the extractor reads: encodings, HTML, office documents, PDF,
// and archives (ZIP, gzip, tar), whole and as a quarter excerpt.
func TestIssue13Formats(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 4))
	names, texts := confidential(r, 5)
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, names, texts)
	for _, env := range corpus.Envelopes() {
		for _, share := range []float64{1, 0.25} {
			body := texts[2]
			if share < 1 {
				body = excerpt(r, body, share)
			}
			d := corpus.Doc{Subject: "fyi", Body: body, Name: "notes"}
			h := scanMessage(t, ix, d.Message(env))[2]
			if !testRule.Match(h) {
				t.Errorf("%s, %.0f%% of the document: not found (%+v)", env, 100*share, h)
			}
		}
	}
}

// TestIssue13FileText: a file indexed through the extractor is found when
// its text is mailed in another format (a PDF attachment).
func TestIssue13FileText(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 5))
	text := genText(r, 700)
	d := corpus.Doc{Subject: "x", Body: text, Name: "plan"}
	got, uns, err := FileText(context.Background(), "plan.txt", []byte(text), extract.DefaultLimits())
	if err != nil || len(uns) != 0 {
		t.Fatalf("FileText = %v, %v", uns, err)
	}
	ix, _, _ := buildIndex(t, testKey(t, 3), BuildOptions{}, []string{"plan.txt"}, []string{got})
	h := scanMessage(t, ix, d.Message(corpus.PDF))[0]
	if !h.Exact && h.Containment < 0.9 {
		t.Fatalf("PDF copy of an indexed text file: %+v", h)
	}
}

// minimalDOCX is a DOCX file holding text as one paragraph per line.
func minimalDOCX(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`)
	var body strings.Builder
	for _, line := range strings.Split(text, "\n") {
		body.WriteString(`<w:p><w:r><w:t>` + line + `</w:t></w:r></w:p>`)
	}
	add("word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+body.String()+`</w:body></w:document>`)
	zw.Close()
	return buf.Bytes()
}

// TestIssue13IndexDOCX: a DOCX file indexed through the extractor yields
// its text, and a quarter of it pasted as plain text into a message body
// is found.
func TestIssue13IndexDOCX(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 6))
	text := genText(r, 800)
	docx := minimalDOCX(t, strings.ReplaceAll(text, ". ", ".\n"))
	got, uns, err := FileText(context.Background(), "plan.docx", docx, extract.DefaultLimits())
	// the extractor may add text of other members (relationship
	// targets); the document's text must be there whole
	if err != nil || len(uns) != 0 || !strings.Contains(Normalize(got), Normalize(text)) {
		t.Fatalf("FileText(docx) = %d chars, %v, %v; want the document's text", len(got), uns, err)
	}
	b := NewBuilder(testKey(t, 3), BuildOptions{})
	b.Add("plan.docx", docx, got)
	var buf bytes.Buffer
	b.Write(&buf)
	ix, err := Load(buf.Bytes(), testKey(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	msg := "Subject: notes\r\n\r\nfrom the plan:\r\n" + excerpt(r, text, 0.25) + "\r\n"
	if h := scanMessage(t, ix, []byte(msg))[0]; !testRule.Match(h) {
		t.Fatalf("quarter of an indexed DOCX: %+v", h)
	}
}
