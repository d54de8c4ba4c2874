package idm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/extract"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Hello,  World!\n> Next", "hello world next"},
		{"  --Ünïcode ＡＢＣ１２３ straße  ", "ünïcode abc123 strasse"},
		{"a\u00a0b\u200bc", "a b c"},
		{"", ""},
		{"!!!", ""},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestIssue13WinnowGuarantee checks the winnowing guarantee on random
// pairs: when two texts share a substring of at least t = w+k-1 bytes,
// some fingerprint selected inside it in one is selected in the other.
func TestIssue13WinnowGuarantee(t *testing.T) {
	key := testKey(t, 1)
	r := rand.New(rand.NewPCG(1, 2))
	for _, kw := range [][2]int{{8, 4}, {32, 64}, {5, 20}} {
		k, w := kw[0], kw[1]
		tt := w + k - 1
		wn := newWinnower(key, k, w)
		for trial := 0; trial < 200; trial++ {
			shared := Normalize(genText(r, 40+r.IntN(60)))[:tt+r.IntN(40)]
			a := []byte(Normalize(genText(r, r.IntN(30))) + " " + shared + " " + Normalize(genText(r, r.IntN(30))))
			b := []byte(Normalize(genText(r, r.IntN(30))) + " " + shared)
			sel := map[uint64]bool{}
			wn.run(a, func(h uint64, _ int) bool { sel[h] = true; return true })
			found := false
			off := bytes.LastIndex(b, []byte(shared))
			wn.run(b, func(h uint64, pos int) bool {
				if pos >= off && pos+k <= off+len(shared) && sel[h] {
					found = true
				}
				return true
			})
			if !found {
				t.Fatalf("k=%d w=%d: shared passage of %d bytes has no common fingerprint\na=%q\nb=%q\nshared=%q", k, w, len(shared), a, b, shared)
			}
		}
	}
}

func TestIssue13IndexHoldsNoText(t *testing.T) {
	key := testKey(t, 7)
	r := rand.New(rand.NewPCG(3, 4))
	doc := genText(r, 800)
	_, data, _ := buildIndex(t, key, BuildOptions{}, []string{"plan.txt"}, []string{doc})
	n := []byte(Normalize(doc))
	for i := 0; i+DefaultK <= len(n); i += 7 {
		g := n[i : i+DefaultK]
		if bytes.Contains(data, g[:16]) {
			t.Fatalf("index holds text %q", g[:16])
		}
	}
	for _, v := range [][]byte{[]byte(doc), n} {
		s := sha256.Sum256(v)
		if bytes.Contains(data, s[:8]) {
			t.Fatal("index holds an unkeyed SHA-256 of the document")
		}
	}
}

func TestIssue13WrongKeyAndCorruptRefused(t *testing.T) {
	key := testKey(t, 7)
	r := rand.New(rand.NewPCG(5, 6))
	_, data, _ := buildIndex(t, key, BuildOptions{}, []string{"a.txt"}, []string{genText(r, 500)})
	if _, err := Load(data, testKey(t, 9)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Load with another key: %v, want ErrWrongKey", err)
	}
	for _, c := range []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-5] }},
		{"flipped", func(b []byte) []byte { b[len(b)-3] ^= 1; return b }},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"version", func(b []byte) []byte { b[8] = 9; return b }},
		{"empty", func(b []byte) []byte { return nil }},
	} {
		d := c.mut(append([]byte(nil), data...))
		if _, err := Load(d, key); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Load = %v, want ErrCorrupt", c.name, err)
		}
	}
	// the same bytes under another key's id are refused by the checksum
	// or the key check, never loaded
	dir := t.TempDir()
	p := filepath.Join(dir, "x.idm")
	os.WriteFile(p, data, 0o600)
	ix, err := Open(p, key)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
}

func TestIssue13KeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k")
	k, _ := NewKey()
	if err := WriteKey(p, k); err != nil {
		t.Fatal(err)
	}
	if err := WriteKey(p, k); err == nil {
		t.Fatal("WriteKey overwrote a key")
	}
	k2, err := LoadKey(p)
	if err != nil || k2.ID() != k.ID() {
		t.Fatalf("LoadKey = %v, %v", k2, err)
	}
	os.Chmod(p, 0o644)
	if _, err := LoadKey(p); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("LoadKey of a 0644 file: %v", err)
	}
}

func TestIssue13ExactOnlyShortDocument(t *testing.T) {
	key := testKey(t, 7)
	short := "Project Falcon: offer price 41 per share, do not forward."
	ix, _, reps := buildIndex(t, key, BuildOptions{}, []string{"short.txt"}, []string{short})
	if !reps[0].ExactOnly || reps[0].Fingerprints != 0 {
		t.Fatalf("report = %+v, want exact only", reps[0])
	}
	h := scan(ix, "PROJECT FALCON -- offer price 41 per share; do not forward!")
	if !h[0].Exact {
		t.Fatalf("hits = %+v, want an exact match of the normalised text", h)
	}
	if len(scan(ix, "project falcon offer price 42 per share")) != 0 {
		t.Fatal("partial text of an exact-only document matched")
	}
}

func TestIssue13EvidenceMasked(t *testing.T) {
	key := testKey(t, 7)
	r := rand.New(rand.NewPCG(8, 9))
	doc := genText(r, 600)
	ix, _, _ := buildIndex(t, key, BuildOptions{}, []string{"Falcon merger plan 20261231.docx"}, []string{doc})
	h := scan(ix, "fyi\n"+excerpt(r, doc, 0.5))
	ev := ix.Evidence(h[0])
	if !strings.Contains(ev, extract.RedactName("Falcon merger plan 20261231.docx")) || strings.Contains(ev, "20261231") || !strings.Contains(ev, "%") || !strings.Contains(ev, "passage") {
		t.Fatalf("evidence %q: want the name redacted, containment and passage", ev)
	}
	for _, w := range strings.Fields(Normalize(doc))[:50] {
		if len(w) > 6 && strings.Contains(strings.ToLower(ev), w) {
			t.Fatalf("evidence %q holds document text %q", ev, w)
		}
	}
}

// TestIssue13IndexReleasedWhenUnreachable: an index dropped without Close
// (a reloaded engine's) has its file unmapped by the collector.
func TestIssue13IndexReleasedWhenUnreachable(t *testing.T) {
	if _, err := os.Stat("/proc/self/maps"); err != nil {
		t.Skip("no /proc/self/maps")
	}
	key := testKey(t, 7)
	r := rand.New(rand.NewPCG(5, 7))
	_, data, _ := buildIndex(t, key, BuildOptions{}, []string{"a.txt"}, []string{genText(r, 500)})
	p := filepath.Join(t.TempDir(), "released.idm")
	os.WriteFile(p, data, 0o600)
	mapped := func() bool {
		m, _ := os.ReadFile("/proc/self/maps")
		return bytes.Contains(m, []byte(p))
	}
	func() {
		ix, err := Open(p, key)
		if err != nil {
			t.Fatal(err)
		}
		if !mapped() || len(ix.Docs) != 1 {
			t.Fatal("index not mapped")
		}
	}()
	for range 50 {
		runtime.GC()
		if !mapped() {
			return
		}
		runtime.Gosched()
	}
	t.Fatal("an unreachable index is still mapped")
}
