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
	first := ta.Engine()
	john := "Subject: x\r\n\r\nJohn Smith, SSN 123 45 6789\r\n"
	mary := "Subject: x\r\n\r\nMary Jones, SSN 987 65 4321\r\n"
	eval := func(e *policy.Engine, msg string) action.Action {
		return e.Evaluate(context.Background(), policy.Message{Body: strings.NewReader(msg)}).Action
	}
	if eval(first, john) != action.Block || eval(first, mary) != action.Pass {
		t.Fatal("first index does not match as built")
	}

	// A damaged index: refused, the old engine stays and still matches.
	b, _ := os.ReadFile(filepath.Join(data, "c.edm"))
	b[len(b)/2] ^= 0xff
	if err := edm.WriteIndex(filepath.Join(data, "c.edm"), b); err != nil {
		t.Fatal(err)
	}
	if err := ta.Reload(); err == nil || !strings.Contains(err.Error(), "corrupt index") {
		t.Fatalf("Reload with a damaged index = %v", err)
	}
	if ta.Engine() != first || eval(ta.Engine(), john) != action.Block {
		t.Error("a damaged index replaced or broke the running engine")
	}
	if !strings.Contains(ta.logs.String(), "corrupt index") {
		t.Errorf("refused reload not logged:\n%s", ta.logs.String())
	}

	// A re-indexed table with a new key: swapped in.
	writeEDM(t, data, "987-65-4321,Mary,Jones\n")
	if err := ta.Reload(); err != nil {
		t.Fatal(err)
	}
	if e := ta.Engine(); e == first || eval(e, mary) != action.Block || eval(e, john) != action.Pass {
		t.Error("the re-indexed table was not swapped in")
	}
	// The old engine, still held by a scan in progress, keeps its mapping.
	if eval(first, john) != action.Block {
		t.Error("the old engine lost its index")
	}
}
