package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func idmCmd(args []string, stdout, stderr *bytes.Buffer) int { return idmMain(args, stdout, stderr) }

// idmWords makes n words of business prose from a fixed seed.
func idmWords(seed uint64, n int) string {
	vocab := strings.Fields(`the board approved revised forecast for quarter margin pricing acquisition
target valuation offer synergy headcount plan region supplier contract risk audit counsel
settlement launch product roadmap partner growth cost budget strategy dividend investor`)
	r := rand.New(rand.NewPCG(seed, 13))
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(vocab[r.IntN(len(vocab))])
		if i%15 == 14 {
			b.WriteString(".")
		}
	}
	return b.String()
}

func idmMessage(body string, attach map[string][]byte) []byte {
	var m bytes.Buffer
	m.WriteString("From: a@example.com\r\nTo: b@example.net\r\nSubject: notes\r\nMIME-Version: 1.0\r\n")
	m.WriteString("Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n")
	m.WriteString(body + "\r\n")
	for name, data := range attach {
		fmt.Fprintf(&m, "--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", name, base64.StdEncoding.EncodeToString(data))
	}
	m.WriteString("--B--\r\n")
	return m.Bytes()
}

// TestIssue13IDMEndToEnd indexes a folder of documents with the CLI,
// refers to the index from a policy, and scans messages: a quarter of a
// confidential document in the body and the document zipped are blocked,
// a clean message and a document of the same vocabulary pass, and the wrong key
// is refused at the detector's file:line.
func TestIssue13IDMEndToEnd(t *testing.T) {
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	board := idmWords(1, 1200)
	os.WriteFile(filepath.Join(docs, "board-minutes.txt"), []byte(board), 0o644)
	os.WriteFile(filepath.Join(docs, "plan.html"), []byte("<html><body><p>"+idmWords(2, 900)+"</p></body></html>"), 0o644)
	os.WriteFile(filepath.Join(docs, "note.txt"), []byte("Offer price 41 per share."), 0o644)
	key := filepath.Join(dir, "board.key")
	index := filepath.Join(dir, "board.idm")

	if code, out, errs := run(t, idmCmd, "keygen", "--out", key); code != 0 || !strings.Contains(out, "key ") {
		t.Fatalf("keygen = %d %s %s", code, out, errs)
	}
	code, out, errs := run(t, idmCmd, "index", "--key", key, "--out", index, docs)
	if code != 0 {
		t.Fatalf("index = %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"note.txt: 24 normalised characters, under 300: exact match only", "board-minutes.txt: ", "3 documents"} {
		if !strings.Contains(out, want) {
			t.Errorf("index output lacks %q:\n%s", want, out)
		}
	}
	if _, out, _ := run(t, idmCmd, "inspect", "--key", key, index); !strings.Contains(out, "3 documents") || strings.Contains(out, "board approved") {
		t.Errorf("inspect:\n%s", out)
	}

	cfg := filepath.Join(dir, "maildlp.toml")
	os.WriteFile(cfg, []byte(`policy_files = ["policy.toml"]`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(`
[[detector]]
name = "board_papers"
kind = "idm"
index = "board.idm"
key_file = "board.key"
min_containment = 0.2
min_passage = 200

[[policy]]
name = "Board papers"
rule = { detector = "board_papers" }
block = { text = "confidential document" }
`), 0o644)

	w := strings.Fields(board)
	quarter := strings.Join(w[400:700], " ")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	f, _ := zw.Create("minutes/board-minutes.txt")
	f.Write([]byte(board))
	zw.Close()
	msgs := map[string][]byte{
		"quarter.eml":   idmMessage("Hi, see below.\r\n\r\n"+strings.ToUpper(quarter), nil),
		"zipped.eml":    idmMessage("attached", map[string][]byte{"minutes.zip": zbuf.Bytes()}),
		"exact.eml":     idmMessage("fyi", map[string][]byte{"n.txt": []byte("OFFER PRICE: 41 per share!")}),
		"clean.eml":     idmMessage("Lunch on Friday? The usual place at noon works for me.", nil),
		"unrelated.eml": idmMessage(idmWords(3, 1200), nil),
	}
	for name, m := range msgs {
		os.WriteFile(filepath.Join(dir, name), m, 0o644)
	}
	for _, c := range []struct {
		file string
		code int
	}{{"quarter.eml", 1}, {"zipped.eml", 1}, {"exact.eml", 1}, {"clean.eml", 0}, {"unrelated.eml", 0}} {
		code, out, errs := run(t, scan, "--config", cfg, "--explain", filepath.Join(dir, c.file))
		if code != c.code {
			t.Errorf("scan %s = %d, want %d\n%s%s", c.file, code, c.code, out, errs)
		}
		if c.file == "quarter.eml" && !strings.Contains(out, "of its fingerprints, passage") {
			t.Errorf("scan --explain %s lacks the idm evidence:\n%s", c.file, out)
		}
		if strings.Contains(out, strings.Join(w[400:410], " ")) {
			t.Errorf("scan %s output holds document text", c.file)
		}
	}

	// another key: refused at the detector, the index untouched
	other := filepath.Join(dir, "other.key")
	run(t, idmCmd, "keygen", "--out", other)
	os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(`
[[detector]]
name = "board_papers"
kind = "idm"
index = "board.idm"
key_file = "other.key"
min_containment = 0.2
`), 0o644)
	code, out, errs = run(t, checkConfig, "--config", cfg)
	if code != 2 || !strings.Contains(errs, `policy.toml:2: detector "board_papers"`) || !strings.Contains(errs, "another key") {
		t.Errorf("check-config with another key = %d\n%s%s", code, out, errs)
	}
}
