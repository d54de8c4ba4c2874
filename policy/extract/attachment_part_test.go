package extract

import (
	"os"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// TestAttachmentPartSize: every part taken from an attachment carries the
// decoded size of the file it came from (the document for its sheets,
// pages and slides; the member for archive members), so that size
// conditions can match it.
func TestAttachmentPartSize(t *testing.T) {
	xlsx := testutil.XLSX(
		testutil.Sheet{Name: "Summary", Rows: [][]string{{"total", "12"}}},
		testutil.Sheet{Name: "Payroll", Rows: [][]string{{"Ann", "4.111111111111111E+15"}}})
	pptx := testutil.PPTX("intro", "card "+card)
	ods := testutil.ODS(testutil.Sheet{Name: "Cards", Rows: [][]string{{"Ann", card}}})
	pdf := testutil.PDF("pdf text " + card)
	csv := []byte("name,card\nann," + card + "\n")
	inner := testutil.DOCX([]string{"inner doc"})
	zip := testutil.Zip(testutil.File{Name: "list.csv", Data: csv}, testutil.File{Name: "d.docx", Data: inner})
	tests := []struct {
		name string
		data []byte
		want map[string]int64 // location suffix -> size
	}{
		{"q3.xlsx", xlsx, map[string]int64{`> sheet "Summary"`: int64(len(xlsx)), `> sheet "Payroll"`: int64(len(xlsx))}},
		{"deck.pptx", pptx, map[string]int64{`> slide 1`: int64(len(pptx)), `> slide 2`: int64(len(pptx))}},
		{"s.ods", ods, map[string]int64{`> sheet "Cards"`: int64(len(ods))}},
		{"scan.pdf", pdf, map[string]int64{`> page 1`: int64(len(pdf))}},
		{"a.zip", zip, map[string]int64{`"a.zip"`: int64(len(zip)), `> "list.csv"`: int64(len(csv)), `> "d.docx"`: int64(len(inner))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, testutil.NewMessage().Text("see attached").Attach(tc.name, "application/octet-stream", tc.data).Bytes(), Limits{})
			seen := map[string]bool{}
			for _, p := range res.Parts {
				if p.Kind != KindAttachment {
					continue
				}
				if p.Size <= 0 {
					t.Errorf("%s: Size = %d, want the attachment's size", p.Location, p.Size)
				}
				for suffix, size := range tc.want {
					if strings.HasSuffix(p.Location, suffix) {
						seen[suffix] = true
						if p.Size != size {
							t.Errorf("%s: Size = %d, want %d", p.Location, p.Size, size)
						}
					}
				}
			}
			for suffix := range tc.want {
				if !seen[suffix] {
					t.Errorf("no part at %q:\n%s", suffix, dump(res))
				}
			}
		})
	}
}

// TestArchiveContainerPart: an archive is a part of its own (no text, its
// detected type, name and size) besides its members, which keep their
// locations.
func TestArchiveContainerPart(t *testing.T) {
	bz2, err := os.ReadFile("testdata/card.txt.bz2")
	if err != nil {
		t.Fatal(err)
	}
	member := []byte("x " + card)
	zip := testutil.Zip(testutil.File{Name: "b/c.txt", Data: member})
	tarball := testutil.Tar(testutil.File{Name: "t.txt", Data: member})
	gz := testutil.Gzip("", member)
	tgz := testutil.Gzip("", tarball)
	tests := []struct {
		file, typ string
		data      []byte
		member    string // location of a member part
	}{
		{"a.zip", "application/zip", zip, `attachment "a.zip" > "b/c.txt"`},
		{"a.tar", "application/x-tar", tarball, `attachment "a.tar" > "t.txt"`},
		{"notes.txt.gz", "application/gzip", gz, `attachment "notes.txt.gz" > "notes.txt"`},
		{"card.txt.bz2", "application/x-bzip2", bz2, `attachment "card.txt.bz2" > "card.txt"`},
		{"a.tar.gz", "application/gzip", tgz, `attachment "a.tar.gz" > "a.tar" > "t.txt"`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res := run(t, testutil.NewMessage().Text("see attached").Attach(tc.file, "application/octet-stream", tc.data).Bytes(), Limits{})
			loc := `attachment "` + tc.file + `"`
			var container, member *Part
			for i := range res.Parts {
				switch res.Parts[i].Location {
				case loc:
					container = &res.Parts[i]
				case tc.member:
					member = &res.Parts[i]
				}
			}
			if container == nil {
				t.Fatalf("no part at %s:\n%s", loc, dump(res))
			}
			want := Part{Location: loc, Kind: KindAttachment, MIMEType: tc.typ, Filename: tc.file, Size: int64(len(tc.data))}
			if *container != want {
				t.Errorf("container part = %+v, want %+v", *container, want)
			}
			if member == nil || member.Text == "" {
				t.Errorf("no member part with text at %s:\n%s", tc.member, dump(res))
			}
		})
	}
}
