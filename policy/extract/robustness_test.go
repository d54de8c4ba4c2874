package extract

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// Inputs crafted to make a naive parser quadratic or unbounded; each must
// finish quickly.
func TestPathologicalInputsAreFast(t *testing.T) {
	var uu strings.Builder
	for i := 0; i < 20000; i++ {
		uu.WriteString("begin 644 a.txt\nM86)C\n")
	}
	var dashes strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&dashes, "--cand%d\r\n%s\r\n", i, strings.Repeat("x", 200))
	}
	var cmap strings.Builder
	cmap.WriteString("begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange 5000 beginbfrange\n")
	for i := 0; i < 5000; i++ {
		cmap.WriteString("<0000> <FFFF> <0041>\n")
	}
	cmap.WriteString("endbfrange endcmap")
	tests := []struct {
		name string
		msg  []byte
	}{
		{"many uuencode begins without end", testutil.Message(uu.String())},
		{"many boundary candidates", []byte("Subject: x\r\nContent-Type: multipart/mixed; boundary=nope\r\n\r\n" + dashes.String())},
		{"huge CMap ranges", testutil.NewMessage().Text("x").Attach("c.pdf", "application/pdf", []byte("%PDF-1.4\n1 0 obj\n<< >>\nstream\n"+cmap.String()+"\nendstream\nendobj\n")).Bytes()},
		{"deep HTML", testutil.NewMessage().HTML(strings.Repeat("<div><span style='display:none'>", 50000) + card).Bytes()},
		{"deep RTF", testutil.NewMessage().Text("x").Attach("a.rtf", "text/rtf", []byte(`{\rtf1`+strings.Repeat("{", 100000)+card)).Bytes()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			run(t, tc.msg, Limits{})
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestHugeZipDirectoryNotRead(t *testing.T) {
	files := func(n int) []testutil.File {
		f := make([]testutil.File, n)
		for i := range f {
			f[i] = testutil.File{Name: fmt.Sprintf("%d.txt", i), Data: []byte("x")}
		}
		return f
	}
	lim := Limits{MaxArchiveMembers: 2}
	for _, tc := range []struct {
		members, wantParts int
	}{
		{32, 2}, // 16 times the limit: read up to the limit
		{33, 0}, // more: not even the directory is read
	} {
		res := run(t, testutil.NewMessage().Text("x").Attach("z.zip", "application/zip", testutil.Zip(files(tc.members)...)).Bytes(), lim)
		got := 0
		for _, p := range res.Parts {
			if strings.HasPrefix(p.Location, `attachment "z.zip" > `) {
				got++
			}
		}
		if got != tc.wantParts || !hasUnscannable(res, `attachment "z.zip"`, TooManyParts) {
			t.Errorf("%d members: %d parts read, want %d and too_many_parts; got:\n%s", tc.members, got, tc.wantParts, dump(res))
		}
	}
}
