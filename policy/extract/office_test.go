package extract

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// officeMessage is a message with doc attached as name.
func officeMessage(name string, doc []byte) []byte {
	return testutil.NewMessage().Text("see attached").Attach(name, "application/octet-stream", doc).Bytes()
}

// TestIssue7OfficeMembersNotHidden: every member of an Office document is
// read, not only those that make its text.
func TestIssue7OfficeMembersNotHidden(t *testing.T) {
	xml := func(s string) []byte { return []byte(`<?xml version="1.0"?>` + s) }
	embedded := testutil.XLSX(testutil.Sheet{Name: "Cards", Rows: [][]string{{"card", "5500 0000 0000 0004"}}})
	docx := testutil.AddMembers(testutil.DOCX([]string{"cover letter"}),
		testutil.File{Name: "word/embeddings/Microsoft_Excel_Worksheet.xlsx", Data: embedded},
		testutil.File{Name: "word/charts/chart1.xml", Data: xml(`<c:chartSpace><c:ser><c:v>4111 1111</c:v><c:v>1111 1111</c:v><c:tx><a:r><a:t>Chart title 4012888888881881</a:t></a:r></c:tx></c:ser></c:chartSpace>`)},
		testutil.File{Name: "customXml/item1.xml", Data: xml(`<root><account number="6011000990139424"/><note>custom 378282246310005</note></root>`)},
		testutil.File{Name: "docProps/custom.xml", Data: xml(`<Properties><property name="Card"><vt:lpwstr>30569309025904</vt:lpwstr></property></Properties>`)},
		testutil.File{Name: "docProps/app.xml", Data: xml(`<Properties><Company>Acme 3530111333300000</Company></Properties>`)},
		testutil.File{Name: "word/glossary/document.xml", Data: xml(`<w:glossaryDocument><w:p><w:r><w:t>41</w:t></w:r><w:r><w:t>11 1111 1111 1111</w:t></w:r></w:p></w:glossaryDocument>`)},
		testutil.File{Name: "word/vbaProject.bin", Data: append(oleHeader(), utf16le("macro 4000056655665556")...)},
		testutil.File{Name: "word/fonts/font1.odttf", Data: append([]byte{0, 1, 0, 0, 0xff}, "font name 5105105105105100 \x00"...)},
	)
	res := run(t, officeMessage("letter.docx", docx), Limits{})
	at := func(member string) string { return `attachment "letter.docx" > "` + member + `"` }
	checkParts(t, res, []want{
		{`attachment "letter.docx"`, "cover letter"},
		{at("word/embeddings/Microsoft_Excel_Worksheet.xlsx") + ` > sheet "Cards"`, "5500 0000 0000 0004"},
		{at("word/charts/chart1.xml"), "4111 1111\n1111 1111"},
		{at("word/charts/chart1.xml"), "Chart title 4012888888881881"},
		{at("customXml/item1.xml"), "6011000990139424"},
		{at("customXml/item1.xml"), "custom 378282246310005"},
		{at("docProps/custom.xml"), "30569309025904"},
		{at("docProps/app.xml"), "Acme 3530111333300000"},
		{at("word/glossary/document.xml"), "4111 1111 1111 1111"},
		{at("word/vbaProject.bin"), "macro 4000056655665556"},
		{at("word/fonts/font1.odttf"), "font name 5105105105105100"},
	})
	// The document's own text is not read a second time as a member.
	for _, p := range res.Parts {
		if p.Location == at("word/document.xml") {
			t.Errorf("word/document.xml read twice:\n%s", dump(res))
		}
	}
	// The embedded workbook is a document one level down, with its own
	// members.
	if !strings.Contains(dump(res), at("word/embeddings/Microsoft_Excel_Worksheet.xlsx")+` > "[Content_Types].xml"`) {
		t.Errorf("embedded workbook's members not walked:\n%s", dump(res))
	}
}

func oleHeader() []byte {
	return append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
}

// TestIssue7OfficeEveryKind: presentations, workbooks and OpenDocument
// files keep no member from the scan either.
func TestIssue7OfficeEveryKind(t *testing.T) {
	pptx := testutil.AddMembers(testutil.PPTX("slide text"),
		testutil.File{Name: "ppt/notesSlides/notesSlide1.xml", Data: []byte(`<p:notes><a:p><a:r><a:t>notes 4111111111111111</a:t></a:r></a:p></p:notes>`)},
		testutil.File{Name: "ppt/slideMasters/slideMaster1.xml", Data: []byte(`<p:sldMaster><a:p><a:r><a:t>master 5500000000000004</a:t></a:r></a:p></p:sldMaster>`)},
		testutil.File{Name: "ppt/slideLayouts/slideLayout1.xml", Data: []byte(`<p:sldLayout><a:t>layout 4012888888881881</a:t></p:sldLayout>`)},
		testutil.File{Name: "ppt/comments/comment1.xml", Data: []byte(`<p:cmLst><p:cm><p:text>comment 6011000990139424</p:text></p:cm></p:cmLst>`)},
		testutil.File{Name: "ppt/slides/hidden-slide.xml", Data: []byte(`<p:sld><a:t>odd name 378282246310005</a:t></p:sld>`)},
	)
	xlsx := testutil.AddMembers(testutil.XLSX(testutil.Sheet{Name: "Visible", Rows: [][]string{{"ok"}}}),
		testutil.File{Name: "xl/worksheets/sheet9.xml", Data: []byte(`<worksheet><sheetData><row><c t="s"><v>0</v></c><c><v>4111111111111111</v></c></row></sheetData></worksheet>`)},
		testutil.File{Name: "xl/worksheets/_rels/sheet9.xml.rels", Data: []byte(`<Relationships><Relationship Id="rId1" Target="https://example.com/?c=3530111333300000" TargetMode="External"/></Relationships>`)},
		testutil.File{Name: "xl/comments1.xml", Data: []byte(`<comments><commentList><comment><text><r><t>xl comment 5500000000000004</t></r></text></comment></commentList></comments>`)},
		testutil.File{Name: "xl/printerSettings/printerSettings1.bin", Data: append([]byte{0, 0, 1, 2}, utf16le("printer 4012888888881881")...)},
	)
	odt := testutil.AddMembers(testutil.ODT("body text"),
		testutil.File{Name: "styles.xml", Data: []byte(`<office:document-styles><style:master-page><style:header><text:p>header <text:span>4111</text:span> 1111 1111 1111</text:p></style:header></style:master-page></office:document-styles>`)},
		testutil.File{Name: "meta.xml", Data: []byte(`<office:document-meta><office:meta><dc:title>title 5500000000000004</dc:title><meta:user-defined meta:name="x">user 4012888888881881</meta:user-defined></office:meta></office:document-meta>`)},
		testutil.File{Name: "Object 1/content.xml", Data: []byte(`<office:document-content><text:p>object 6011000990139424</text:p></office:document-content>`)},
		testutil.File{Name: "settings.xml", Data: []byte(`<office:settings><config:config-item config:name="x">setting 378282246310005</config:config-item></office:settings>`)},
	)
	ods := testutil.AddMembers(testutil.ODS(testutil.Sheet{Name: "S", Rows: [][]string{{"cell"}}}),
		testutil.File{Name: "content.xml", Data: []byte(`<office:document-content><office:body><office:spreadsheet><text:p>outside 4111111111111111</text:p><table:table table:name="S"><table:table-row><table:table-cell><text:p>cell</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>`)},
	)
	tests := []struct {
		name  string
		doc   []byte
		wants []want
	}{
		{"s.pptx", pptx, []want{
			{`attachment "s.pptx" > slide 1`, "slide text"},
			{`attachment "s.pptx" > notes "notesSlide1.xml"`, "notes 4111111111111111"},
			{`attachment "s.pptx" > "ppt/slideMasters/slideMaster1.xml"`, "master 5500000000000004"},
			{`attachment "s.pptx" > "ppt/slideLayouts/slideLayout1.xml"`, "layout 4012888888881881"},
			{`attachment "s.pptx" > "ppt/comments/comment1.xml"`, "comment 6011000990139424"},
			{`attachment "s.pptx" > "ppt/slides/hidden-slide.xml"`, "odd name 378282246310005"},
		}},
		{"b.xlsx", xlsx, []want{
			{`attachment "b.xlsx" > sheet "Visible"`, "ok"},
			{`attachment "b.xlsx" > "xl/worksheets/sheet9.xml"`, "ok\t4111111111111111"},
			{`attachment "b.xlsx" > comments`, "xl comment 5500000000000004"},
			{`attachment "b.xlsx" > "xl/worksheets/_rels/sheet9.xml.rels"`, "https://example.com/?c=3530111333300000"},
			{`attachment "b.xlsx" > "xl/printerSettings/printerSettings1.bin"`, "printer 4012888888881881"},
		}},
		{"t.odt", odt, []want{
			{`attachment "t.odt"`, "body text"},
			{`attachment "t.odt" > "styles.xml"`, "header 4111 1111 1111 1111"},
			{`attachment "t.odt" > properties`, "title 5500000000000004"},
			{`attachment "t.odt" > properties`, "user 4012888888881881"},
			{`attachment "t.odt" > "Object 1/content.xml"`, "object 6011000990139424"},
			{`attachment "t.odt" > "settings.xml"`, "setting 378282246310005"},
		}},
		{"s.ods", ods, []want{
			{`attachment "s.ods" > sheet "S"`, "cell"},
			{`attachment "s.ods"`, "outside 4111111111111111"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, officeMessage(tc.name, tc.doc), Limits{})
			checkParts(t, res, tc.wants)
			for _, u := range res.Unscannable {
				if u.Reason != Unsupported || !strings.HasPrefix(u.MIMEType, "image/") {
					t.Errorf("unexpected unscannable %+v", u)
				}
			}
		})
	}
}

// TestIssue7OfficeMemberLimits: the walk of a document's members obeys
// max_archive_members, max_parts and max_depth, and says so.
func TestIssue7OfficeMemberLimits(t *testing.T) {
	var files []testutil.File
	for i := range 20 {
		files = append(files, testutil.File{Name: fmt.Sprintf("customXml/item%d.xml", i), Data: []byte("<a>x</a>")})
	}
	many := officeMessage("m.docx", testutil.AddMembers(testutil.DOCX([]string{"x"}), files...))
	res := run(t, many, Limits{MaxArchiveMembers: 10, MaxParts: 14})
	if !hasUnscannable(res, `attachment "m.docx"`, TooManyParts) {
		t.Errorf("max_archive_members: want too_many_parts:\n%s", dump(res))
	}
	// Members past max_archive_members are not counted as parts: the
	// message's other parts are still read.
	for _, u := range res.Unscannable {
		if u.Location != `attachment "m.docx"` {
			t.Errorf("max_archive_members: unexpected %+v", u)
		}
	}
	res = run(t, many, Limits{MaxParts: 12})
	if !hasUnscannable(res, `attachment "m.docx" > "customXml/item8.xml"`, TooManyParts) {
		t.Errorf("max_parts: want too_many_parts:\n%s", dump(res))
	}
	// A document embedded in a document embedded in ...: each level is
	// one deeper, up to max_depth.
	doc := testutil.DOCX([]string{"innermost " + card})
	for range 4 {
		doc = testutil.AddMembers(testutil.DOCX([]string{"x"}), testutil.File{Name: "word/embeddings/d.docx", Data: doc})
	}
	res = run(t, officeMessage("n.docx", doc), Limits{MaxDepth: 4})
	var deep bool
	for _, u := range res.Unscannable {
		deep = deep || u.Reason == TooDeep
	}
	if !deep || strings.Contains(dump(res), "innermost") {
		t.Errorf("max_depth 4: want too_deep and no innermost text:\n%s", dump(res))
	}
	res = run(t, officeMessage("n.docx", doc), Limits{})
	if !strings.Contains(dump(res), "innermost "+card) {
		t.Errorf("default depth: innermost text not read:\n%s", dump(res))
	}
}

// TestIssue7OfficeMemberNotXML: a member named .xml that holds something
// else is read as what it is.
func TestIssue7OfficeMemberNotXML(t *testing.T) {
	inner := testutil.Zip(testutil.File{Name: "secret.txt", Data: []byte("zipped " + card)})
	docx := testutil.AddMembers(testutil.DOCX([]string{"x"}), testutil.File{Name: "customXml/item1.xml", Data: inner})
	res := run(t, officeMessage("a.docx", docx), Limits{})
	checkParts(t, res, []want{{`attachment "a.docx" > "customXml/item1.xml" > "secret.txt"`, "zipped " + card}})
}

// TestIssue7SheetRepeatedSharedString: a sheet that repeats a long shared
// string stops at max_text_bytes and says so.
func TestIssue7SheetRepeatedSharedString(t *testing.T) {
	var sheet strings.Builder
	sheet.WriteString(`<worksheet><sheetData><row>`)
	for range 2000 {
		sheet.WriteString(`<c t="s"><v>0</v></c>`)
	}
	sheet.WriteString(`</row></sheetData></worksheet>`)
	x := testutil.AddMembers(testutil.XLSX(testutil.Sheet{Name: "S", Rows: [][]string{{"x"}}}),
		testutil.File{Name: "xl/sharedStrings.xml", Data: []byte(`<sst><si><t>` + strings.Repeat("a", 1000) + `</t></si></sst>`)},
		testutil.File{Name: "xl/worksheets/sheet1.xml", Data: []byte(sheet.String())})
	res := run(t, officeMessage("a.xlsx", x), Limits{MaxTextBytes: 100 << 10})
	if !hasUnscannable(res, `attachment "a.xlsx" > sheet "S"`, TooLarge) {
		t.Errorf("want too_large at the sheet:\n%s", dump(res))
	}
	text, cut := sheetText(nil, []byte(sheet.String()), sharedOf("abc"), 10)
	if !cut || text != "abc\tabc\tab" {
		t.Errorf("sheetText cut at 10 = %q, %v; want %q, true", text, cut, "abc\tabc\tab")
	}
}

// TestIssue7AnyXMLText: the generic reader keeps runs together, puts other
// elements on lines of their own and reads attribute values alone.
func TestIssue7AnyXMLText(t *testing.T) {
	x := `<?xml version="1.0"?><root a="4111 1111"><w:p><w:r><w:t>41</w:t></w:r><w:r><w:t>11</w:t></w:r></w:p><v>1</v><v>2</v><t x='&amp;9'/><![CDATA[cd]]></root>`
	want := "4111\n1\n2\ncd\n\n4111 1111\n\n&9"
	if got := anyXMLText(nil, []byte(x)); got != want {
		t.Errorf("anyXMLText(%q) = %q, want %q", x, got, want)
	}
}

// FuzzXMLScan checks the XML readers on any input: the work counted is
// bounded by the input, and the words of a generated document come out
// of the reader meant for it.
func FuzzXMLScan(f *testing.F) {
	f.Add([]byte(`<w:p><w:r><w:t>a&amp;b&#52;&#x31;</w:t></w:r><![CDATA[x]]><!-- c --><w:tab/></w:p>`), "alpha 4111 beta")
	f.Add([]byte(`<sst><si><t>x</t><rPh><t>y</t></rPh></si></sst><c t="s"><v>0</v></c>`), "one")
	f.Add([]byte(`<a b="&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&;"><!--<![CDATA[<?`), "x y")
	f.Fuzz(func(t *testing.T, data []byte, words string) {
		for name, read := range map[string]func(m *meter){
			"runText":    func(m *meter) { runText(m, data, docxRoles, false) },
			"odf":        func(m *meter) { runText(m, data, odfRoles, true) },
			"anyXMLText": func(m *meter) { anyXMLText(m, data) },
			"sheetText":  func(m *meter) { sheetText(m, data, sharedStrings(m, data), 1<<20) },
		} {
			m := newMeter(nil, noDeadline)
			read(m)
			// Each token is counted once with its bytes; a sheet also
			// counts the text it copies from shared strings (at most
			// the input again per cell, bounded by the room).
			if limit := 2*int64(len(data)) + 64 + 1<<20; m.total() > limit {
				t.Fatalf("%s(%q): work %d > %d", name, data, m.total(), limit)
			}
		}
		var doc strings.Builder
		var placed []string
		for _, w := range strings.Fields(words) {
			w = strings.Map(func(r rune) rune {
				if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
					return r
				}
				return -1
			}, w)
			if w != "" {
				fmt.Fprintf(&doc, `<w:p a="%s"><w:r><w:t>%s</w:t></w:r></w:p>`, w, w)
				placed = append(placed, w)
			}
		}
		body := runText(nil, []byte(doc.String()), docxRoles, false)
		generic := anyXMLText(nil, []byte(doc.String()))
		for _, w := range placed {
			if !strings.Contains(body, w+"\n") || !strings.Contains(generic, "\n\n"+w) {
				t.Fatalf("%q lost from %q: runText %q, anyXMLText %q", w, doc.String(), body, generic)
			}
		}
	})
}

// FuzzOfficeMembers reads a DOCX that carries the fuzzed bytes as an
// extra member, under several names, and checks that the extractor does
// not fail on it and that the document's own text is still read.
func FuzzOfficeMembers(f *testing.F) {
	f.Add([]byte(`<root>x</root>`), uint8(0))
	f.Add(testutil.XLSX(testutil.Sheet{Name: "S", Rows: [][]string{{"a"}}}), uint8(1))
	f.Add(append(oleHeader(), utf16le("macro text")...), uint8(2))
	names := []string{"customXml/item1.xml", "word/embeddings/e.xlsx", "word/vbaProject.bin", "xl/worksheets/sheet2.xml", "docProps/custom.xml", "ppt/slides/slide2.xml", "Object 1/content.xml", "word/document.xml"}
	// Stored members, so that building the document costs little next
	// to reading it.
	var own []testutil.File
	for _, m := range zipMembers(testutil.DOCX([]string{"own text"})) {
		m.Store = true
		own = append(own, m)
	}
	f.Fuzz(func(t *testing.T, member []byte, which uint8) {
		name := names[int(which)%len(names)]
		docx := testutil.Zip(append(own[:len(own):len(own)], testutil.File{Name: name, Data: member, Store: true})...)
		e := &extractor{ctx: t.Context(), lim: fuzzLimits.withDefaults(), res: &Result{}}
		e.content(docx, source{loc: `attachment "f"`, name: "f", kind: KindAttachment}, 1)
		for _, u := range e.res.Unscannable {
			if strings.HasPrefix(u.Detail, "extractor failed") {
				t.Fatalf("extractor panicked: %s", u.Detail)
			}
		}
		checkResult(t, e.res, fuzzLimits)
		if name != "word/document.xml" {
			if got, _ := textAt(e.res, `attachment "f"`); !strings.Contains(got, "own text") {
				t.Fatalf("own text lost: %q", got)
			}
		}
	})
}

// zipMembers returns the members of a ZIP archive.
func zipMembers(z []byte) []testutil.File {
	zr, err := zipReader(z)
	if err != nil {
		panic(err)
	}
	var out []testutil.File
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			panic(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		out = append(out, testutil.File{Name: f.Name, Data: data})
	}
	return out
}

// TestIssue7OfficeAltText: the alternative text of pictures and the
// tooltips of links in a document's own text are read.
func TestIssue7OfficeAltText(t *testing.T) {
	docx := testutil.DOCXBody(`<w:p><w:r><w:t>see the picture</w:t></w:r><w:r><w:drawing><wp:inline><wp:docPr id="1" name="Picture 1" descr="card 4111 1111 1111 1111" title="t 5500000000000004"/></wp:inline></w:drawing></w:r>` +
		`<w:hyperlink w:tooltip="tip 4012888888881881"><w:r><w:t>link</w:t></w:r></w:hyperlink></w:p>` +
		`<w:p><m:oMath><m:r><m:t>x = 6011000990139424</m:t></m:r></m:oMath></w:p>`)
	res := run(t, officeMessage("a.docx", docx), Limits{})
	checkParts(t, res, []want{
		{`attachment "a.docx"`, "see the picturelink\nx = 6011000990139424"},
		{`attachment "a.docx"`, "\n\ncard 4111 1111 1111 1111\n\nt 5500000000000004\n\ntip 4012888888881881"},
	})
}

// TestIssue7OfficeDuplicateMember: a member name listed twice is two
// members; the one the document's text did not read is read as a member.
func TestIssue7OfficeDuplicateMember(t *testing.T) {
	docx := testutil.Zip(
		testutil.File{Name: "[Content_Types].xml", Data: []byte("<Types/>")},
		testutil.File{Name: "word/document.xml", Data: []byte(`<w:document><w:body><w:p><w:r><w:t>first ` + card + `</w:t></w:r></w:p></w:body></w:document>`)},
		testutil.File{Name: "word/document.xml", Data: []byte(`<w:document><w:body><w:p><w:r><w:t>second</w:t></w:r></w:p></w:body></w:document>`)},
	)
	res := run(t, officeMessage("a.docx", docx), Limits{})
	if all := dump(res); !strings.Contains(all, "first "+card) || !strings.Contains(all, "second") {
		t.Errorf("want both members read:\n%s", all)
	}
}

// sharedOf is a shared strings table of items.
func sharedOf(items ...string) *sharedTable {
	return &sharedTable{items: items, used: make([]bool, len(items))}
}

// TestIssue7SharedStringsLeftovers: shared strings no cell refers to, and
// text outside the strings, are read.
func TestIssue7SharedStringsLeftovers(t *testing.T) {
	x := testutil.AddMembers(testutil.XLSX(testutil.Sheet{Name: "S", Rows: [][]string{{"used"}}}),
		testutil.File{Name: "xl/sharedStrings.xml", Data: []byte(`<sst><si><t>used</t></si><si><t>unused 4111111111111111</t></si>` +
			`<si><t>漢字</t><rPh sb="0" eb="2"><t>phonetic 5500000000000004</t></rPh>stray 4012888888881881</si></sst>`)})
	res := run(t, officeMessage("a.xlsx", x), Limits{})
	loc := `attachment "a.xlsx" > "xl/sharedStrings.xml"`
	checkParts(t, res, []want{{`attachment "a.xlsx" > sheet "S"`, "used"}, {loc, "unused 4111111111111111"}, {loc, "phonetic 5500000000000004"}, {loc, "stray 4012888888881881"}})
	if got, _ := textAt(res, loc); strings.Contains(got, "used\n") && !strings.Contains(got, "unused") {
		t.Errorf("used string repeated: %q", got)
	}
}
