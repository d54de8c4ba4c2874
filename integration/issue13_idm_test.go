package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// idmDocument is a confidential document of n words of business prose.
func idmDocument(seed uint64, n int) string {
	vocab := strings.Fields(`the board approved revised forecast for quarter margin pricing acquisition
target valuation offer synergy headcount plan region supplier contract risk audit counsel
settlement launch product roadmap partner growth cost budget strategy dividend investor`)
	r := rand.New(rand.NewPCG(seed, 13))
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(vocab[r.IntN(len(vocab))])
		if i%15 == 14 {
			b.WriteString(".\n")
		}
	}
	return b.String()
}

// TestIssue13IDMThroughPostfix indexes a folder of documents with
// `maildlp idm`, refers to the index from a policy, and sends through a
// real Postfix to the milter and to the before-queue hop: a message
// carrying a quarter of a confidential document is refused by both, a
// clean message is accepted by both, and no reply or log line holds the
// document's text.
func TestIssue13IDMThroughPostfix(t *testing.T) {
	needMaildlp(t)
	dir := tempDir(t, "maildlp-idm-")
	docs := filepath.Join(dir, "docs")
	if err := os.MkdirAll(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := idmDocument(1, 1600)
	os.WriteFile(filepath.Join(docs, "board-minutes.txt"), []byte(doc), 0o644)
	os.WriteFile(filepath.Join(docs, "pricing.txt"), []byte(idmDocument(2, 900)), 0o644)
	key, index := filepath.Join(dir, "board.key"), filepath.Join(dir, "board.idm")
	for _, args := range [][]string{
		{"idm", "keygen", "--out", key},
		{"idm", "index", "--key", key, "--out", index, docs},
	} {
		if out, err := exec.Command(maildlpBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("maildlp %v: %v\n%s", args, err, out)
		}
	}
	policies := fmt.Sprintf(`
[[detector]]
name = "board_papers"
kind = "idm"
index = %q
key_file = %q
min_containment = 0.2
min_passage = 200

[[policy]]
name = "Board papers"
rule = { detector = "board_papers" }
block = { text = "confidential document refused" }
`, index, key)
	rig := newFrontRig(t, DLPConfig{Policies: policies}, nil)

	words := strings.Fields(doc)
	quarter := strings.Join(words[600:1000], " ")
	leak := cleanMsg("issue13-idm-leak")
	leak.Body += "\nsee the minutes below\n\n> " + strings.ReplaceAll(strings.ToUpper(quarter), ". ", ".\n> ") + "\n"
	clean := cleanMsg("issue13-idm-clean")
	for _, fe := range []string{"milter", "reinject"} {
		t.Run(fe, func(t *testing.T) {
			pf := map[string]*Postfix{"milter": rig.pfMilter, "reinject": rig.pfHop}[fe]
			res := sendRaw(t, pf.Addr(), false, leak.Bytes())
			if res.Code/100 != 5 || !strings.Contains(wireText(res), "confidential document refused") {
				t.Errorf("quarter of a confidential document: %q, want a refusal by the policy", wireText(res))
			}
			if res := sendRaw(t, pf.Addr(), false, clean.Bytes()); res.Code != 250 {
				t.Errorf("clean message: %q, want 250", wireText(res))
			}
		})
	}
	log := rig.dlp.Log()
	if !strings.Contains(log, "board_papers") {
		t.Errorf("the decision log does not name the detector")
	}
	if strings.Contains(log, strings.Join(words[700:706], " ")) {
		t.Errorf("the log holds document text")
	}
}
