package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/idm"
)

// idmText is a document of n numbered sentences, distinct per seed.
func idmText(seed string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Clause %d of the %s agreement binds the parties to the revised terms. ", i, seed)
	}
	return b.String()
}

// writeIDM indexes text under a new key.
func writeIDM(t *testing.T, dir, text string) {
	t.Helper()
	key, _ := idm.NewKey()
	os.Remove(filepath.Join(dir, "d.key"))
	if err := idm.WriteKey(filepath.Join(dir, "d.key"), key); err != nil {
		t.Fatal(err)
	}
	b := idm.NewBuilder(key, idm.BuildOptions{})
	b.Add("agreement.txt", []byte(text), text)
	var buf bytes.Buffer
	if _, err := b.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := idm.WriteIndex(filepath.Join(dir, "d.idm"), buf.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// TestIssue13IDMReload: a reload swaps in a re-indexed document set under
// a new key; a reload that finds the index damaged is refused, logged,
// and the running engine keeps matching with the index it mapped.
func TestIssue13IDMReload(t *testing.T) {
	data := t.TempDir()
	alpha, beta := idmText("alpha", 40), idmText("beta", 40)
	writeIDM(t, data, alpha)
	pol := fmt.Sprintf(`[[detector]]
name = "agreements"
kind = "idm"
index = %q
key_file = %q
min_containment = 0.2

[[policy]]
name = "Agreements"
rule = { detector = "agreements" }
block = {}
`, filepath.Join(data, "d.idm"), filepath.Join(data, "d.key"))
	ta := newTestApp(t, "5s", pol, "")
	first := ta.Engine()
	eval := func(e *policy.Engine, text string) action.Action {
		msg := "Subject: x\r\n\r\n" + text[:len(text)/3] + "\r\n"
		return e.Evaluate(context.Background(), policy.Message{Body: strings.NewReader(msg)}).Action
	}
	if eval(first, alpha) != action.Block || eval(first, beta) != action.Pass {
		t.Fatal("first index does not match as built")
	}

	b, _ := os.ReadFile(filepath.Join(data, "d.idm"))
	b[len(b)/2] ^= 0xff
	if err := idm.WriteIndex(filepath.Join(data, "d.idm"), b); err != nil {
		t.Fatal(err)
	}
	if err := ta.Reload(); err == nil || !strings.Contains(err.Error(), "corrupt index") {
		t.Fatalf("Reload with a damaged index = %v", err)
	}
	if ta.Engine() != first || eval(ta.Engine(), alpha) != action.Block {
		t.Error("a damaged index replaced or broke the running engine")
	}
	if !strings.Contains(ta.logs.String(), "corrupt index") {
		t.Errorf("refused reload not logged:\n%s", ta.logs.String())
	}

	writeIDM(t, data, beta)
	if err := ta.Reload(); err != nil {
		t.Fatal(err)
	}
	if e := ta.Engine(); e == first || eval(e, beta) != action.Block || eval(e, alpha) != action.Pass {
		t.Error("the re-indexed documents were not swapped in")
	}
	if eval(first, alpha) != action.Block {
		t.Error("the old engine lost its index")
	}
}
