package policy

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// TestAttachmentConditionsExtracted runs attachment conditions through the
// real extractor: the size of a spreadsheet whose text comes out per sheet,
// and the detected type of an archive, not only of its members.
func TestAttachmentConditionsExtracted(t *testing.T) {
	xlsx := testutil.XLSX(
		testutil.Sheet{Name: "Summary", Rows: [][]string{{"total", "12"}}},
		testutil.Sheet{Name: "Payroll", Rows: [][]string{{"Ann", "100"}}})
	zip := testutil.Zip(testutil.File{Name: "list.csv", Data: []byte("name,amount\nann,100\n")})
	tgz := testutil.Gzip("", testutil.Tar(testutil.File{Name: "t.txt", Data: []byte("notes")}))
	withXLSX := testutil.NewMessage().Text("see attached").Attach("q3.xlsx", "application/octet-stream", xlsx).Bytes()
	withZip := testutil.NewMessage().Text("see attached").Attach("pack.dat", "application/octet-stream", zip).Bytes()
	withTGZ := testutil.NewMessage().Text("see attached").Attach("logs.tgz", "application/octet-stream", tgz).Bytes()
	size := func(n int) string { return `"` + strconv.Itoa(n) + `B"` }
	tests := []struct {
		name string
		rule string
		msg  []byte
		want bool
	}{
		{"xlsx at its size", `{ min_attachment_size = ` + size(len(xlsx)) + ` }`, withXLSX, true},
		{"xlsx type and size", `{ file_type = ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"], min_attachment_size = "1KiB" }`, withXLSX, true},
		{"xlsx below the bound", `{ min_attachment_size = ` + size(len(xlsx)+1) + ` }`, withXLSX, false},
		{"xlsx max size", `{ filename = ["*.xlsx"], max_attachment_size = ` + size(len(xlsx)) + ` }`, withXLSX, true},
		{"zip by detected type", `{ file_type = ["application/zip"] }`, withZip, true},
		{"zip type and size", `{ file_type = ["application/zip"], min_attachment_size = ` + size(len(zip)) + ` }`, withZip, true},
		{"zip member type still seen", `{ file_type = ["text/*"], filename = ["list.csv"] }`, withZip, true},
		{"gzip by detected type", `{ file_type = ["application/gzip"], filename = ["logs.tgz"] }`, withTGZ, true},
		{"tar inside gzip by detected type", `{ file_type = ["application/x-tar"] }`, withTGZ, true},
		{"no archive in a spreadsheet", `{ file_type = ["application/zip"] }`, withXLSX, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "internal_domains = [\"example.com\"]\n[[policy]]\nname = \"P\"\nrule = " + tt.rule + "\n[policy.quarantine]\n"
			cfg, err := config.LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"), []byte(doc), detect.IsBuiltin)
			if err != nil {
				t.Fatalf("config:\n%v", err)
			}
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			v := e.Evaluate(context.Background(), Message{Envelope: env, Body: bytes.NewReader(tt.msg)})
			if v.Err != nil {
				t.Fatal(v.Err)
			}
			got := slices.ContainsFunc(v.Policies, func(p action.PolicyHit) bool { return p.Name == "P" })
			if got != tt.want {
				t.Errorf("rule %s matched = %v, want %v (action %v, unscannable %v)", tt.rule, got, tt.want, v.Action, v.Unscannable)
			}
		})
	}
}
