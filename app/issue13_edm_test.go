package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/edm"
)

func writeEDM(t *testing.T, dir, table string) {
	t.Helper()
	key, _ := edm.NewKey()
	os.Remove(filepath.Join(dir, "c.key"))
	if err := edm.WriteKey(filepath.Join(dir, "c.key"), key); err != nil {
		t.Fatal(err)
	}
	cols, _ := edm.ParseColumns("ssn:digits:primary,first:name,last:name")
	data, _, err := edm.Build(strings.NewReader(table), key, edm.BuildOptions{Name: "customers", Columns: cols})
	if err != nil {
		t.Fatal(err)
	}
	if err := edm.WriteIndex(filepath.Join(dir, "c.edm"), data); err != nil {
		t.Fatal(err)
	}
}

// TestIssue13EDMReload: a reload swaps in a re-indexed table; a reload
// that finds the index damaged is refused, logged, and the running engine
// keeps matching with the index it mapped.
func TestIssue13EDMReload(t *testing.T) {
	data := t.TempDir()
	writeEDM(t, data, "123-45-6789,John,Smith\n")
	pol := fmt.Sprintf(`[[detector]]
name = "customer_record"
kind = "edm"
index = %q
key_file = %q
min_columns = 3

[[policy]]
name = "Customer records"
rule = { detector = "customer_record" }
block = {}
`, filepath.Join(data, "c.edm"), filepath.Join(data, "c.key"))
	ta := newTestApp(t, "5s", pol, "")
	datasetReload{
		index:      filepath.Join(data, "c.edm"),
		writeIndex: edm.WriteIndex,
		reindex:    func() { writeEDM(t, data, "987-65-4321,Mary,Jones\n") },
		eval: func(e *policy.Engine, msg string) action.Action {
			return e.Evaluate(context.Background(), policy.Message{Body: strings.NewReader(msg)}).Action
		},
		in:  "Subject: x\r\n\r\nJohn Smith, SSN 123 45 6789\r\n",
		out: "Subject: x\r\n\r\nMary Jones, SSN 987 65 4321\r\n",
	}.check(t, ta)
}
