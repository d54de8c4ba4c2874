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
		// The seed at least every 16 bytes: no 32-byte window (one
		// fingerprint) is shared by the texts of two seeds, so a
		// document matches only its own index, whatever the key; the
		// number in every window keeps the windows distinct.
		fmt.Fprintf(&b, "%s clause %d %s binds %s party %d %s. ", seed, i, seed, seed, i, seed)
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
	datasetReload{
		index:      filepath.Join(data, "d.idm"),
		writeIndex: idm.WriteIndex,
		reindex:    func() { writeIDM(t, data, beta) },
		eval: func(e *policy.Engine, text string) action.Action {
			msg := "Subject: x\r\n\r\n" + text[:len(text)/3] + "\r\n"
			return e.Evaluate(context.Background(), policy.Message{Body: strings.NewReader(msg)}).Action
		},
		in:  alpha,
		out: beta,
	}.check(t, ta)
}
