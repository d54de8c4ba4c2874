package app

import (
	"os"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// datasetReload is what reloading a dataset detector (EDM, IDM) must do:
// a damaged index is refused and the running engine keeps its own; a
// re-indexed set is swapped in, and an engine still held by a scan in
// progress keeps its mapping. in and out are what the first index
// blocks and passes; after reindex they change places.
type datasetReload struct {
	index      string                            // the index file
	writeIndex func(path string, b []byte) error // the package's own writer
	reindex    func()                            // builds the index of out in place of in
	eval       func(*policy.Engine, string) action.Action
	in, out    string
}

func (d datasetReload) check(t *testing.T, ta *testApp) {
	t.Helper()
	first := ta.Engine()
	if d.eval(first, d.in) != action.Block || d.eval(first, d.out) != action.Pass {
		t.Fatal("first index does not match as built")
	}

	// A damaged index: refused, the old engine stays and still matches.
	b, _ := os.ReadFile(d.index)
	b[len(b)/2] ^= 0xff
	if err := d.writeIndex(d.index, b); err != nil {
		t.Fatal(err)
	}
	if err := ta.Reload(); err == nil || !strings.Contains(err.Error(), "corrupt index") {
		t.Fatalf("Reload with a damaged index = %v", err)
	}
	if ta.Engine() != first || d.eval(ta.Engine(), d.in) != action.Block {
		t.Error("a damaged index replaced or broke the running engine")
	}
	if !strings.Contains(ta.logs.String(), "corrupt index") {
		t.Errorf("refused reload not logged:\n%s", ta.logs.String())
	}

	// A re-indexed set: swapped in.
	d.reindex()
	if err := ta.Reload(); err != nil {
		t.Fatal(err)
	}
	if e := ta.Engine(); e == first || d.eval(e, d.out) != action.Block || d.eval(e, d.in) != action.Pass {
		t.Error("the re-indexed set was not swapped in")
	}
	// The old engine, still held by a scan in progress, keeps its mapping.
	if d.eval(first, d.in) != action.Block {
		t.Error("the old engine lost its index")
	}
}
