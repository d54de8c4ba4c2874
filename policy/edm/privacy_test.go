package edm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestXorFilter: every key is in the filter; about 1/256 of others.
func TestXorFilter(t *testing.T) {
	k := newSipKey(make([]byte, 16))
	keys := make([]uint64, 100000)
	for i := range keys {
		keys[i] = k.Sum64([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
	}
	f, err := buildXorFilter(keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range keys {
		if !f.contains(x) {
			t.Fatalf("key %#x missing", x)
		}
	}
	fp := 0
	for i := range 100000 {
		if f.contains(k.Sum64([]byte{byte(i), byte(i >> 8), byte(i >> 16), 'x'})) {
			fp++
		}
	}
	if fp > 800 {
		t.Errorf("false-positive rate %.4f, want about 0.004", float64(fp)/100000)
	}
	bitsPerKey := float64(8*len(f.fp)) / float64(len(keys))
	t.Logf("%.2f bits per key, false-positive rate %.4f", bitsPerKey, float64(fp)/100000)
}

// TestIssue13EDMIndexHoldsNoValue: no cell value, normalised or not, and
// no plain SHA-256 of one (raw or hex) is in the index bytes.
func TestIssue13EDMIndexHoldsNoValue(t *testing.T) {
	ps := genPeople(7, 300)
	key, data := buildTest(t, ps)
	lower := bytes.ToLower(data)
	// The meta holds column names ("primary" has "mary" in it): short
	// values are looked for after it.
	metaEnd := headerSize + pad8(int(binary.LittleEndian.Uint32(data[12:])))
	for _, p := range ps {
		for _, v := range []string{p.ssn, p.ssn[:3] + "-" + p.ssn[3:5] + "-" + p.ssn[5:], p.acct, strings.ToLower(p.acct), p.email, p.first, p.last, title(p.first), p.dob, p.phone, p.phone[3:], "(" + p.phone[:3] + ") " + p.phone[3:6] + "-" + p.phone[6:]} {
			if len(v) >= 6 && bytes.Contains(lower, bytes.ToLower([]byte(v))) || len(v) >= 4 && bytes.Contains(lower[metaEnd:], bytes.ToLower([]byte(v))) {
				t.Errorf("index holds a value %q", v)
			}
			for _, c := range []Class{Digits, Alnum, Email, Phone, Name, Date} {
				for _, s := range []string{v, Normalize(c, v)} {
					h := sha256.Sum256([]byte(s))
					if bytes.Contains(data, h[:8]) || bytes.Contains(lower, []byte(hex.EncodeToString(h[:])[:16])) {
						t.Errorf("index holds the SHA-256 of %q", s)
					}
				}
			}
		}
	}
	if bytes.Contains(data, key.secret[:8]) || bytes.Contains(lower, key.Marshal()[20:36]) {
		t.Error("index holds the key")
	}
}

// TestIssue13EDMWrongKey: an index opened with another key is refused,
// and a matcher forced onto another key finds nothing.
func TestIssue13EDMWrongKey(t *testing.T) {
	ps := genPeople(8, 200)
	_, data := buildTest(t, ps)
	other, _ := NewKey()
	if _, err := Parse(data, other); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Parse with another key: %v, want ErrWrongKey", err)
	}
	x, err := Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	x.key = other
	m, err := NewMatcher("customers", x, Options{MinColumns: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if ms := rowsIn(m, "SSN "+p.ssn+" "+p.email+" "+p.acct+" "+title(p.first)+" "+title(p.last)); len(ms) > 0 {
			t.Fatalf("another key matched: %v", ms[0].Evidence)
		}
	}
}

// TestIssue13EDMCorruptIndex: a damaged, truncated or foreign file is
// refused with an error that says so.
func TestIssue13EDMCorruptIndex(t *testing.T) {
	key, data := buildTest(t, genPeople(9, 50))
	flip := bytes.Clone(data)
	flip[len(flip)/2] ^= 1
	for name, b := range map[string][]byte{
		"flipped":   flip,
		"truncated": data[:len(data)-9],
		"foreign":   []byte("id,name\n1,x\n" + strings.Repeat("x", 80)),
		"empty":     nil,
	} {
		if _, err := Parse(b, key); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "c.edm")
	if err := WriteIndex(path, data); err != nil {
		t.Fatal(err)
	}
	x, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.Meta.Rows != 50 || x.Anchors() != 150 {
		t.Errorf("rows %d anchors %d", x.Meta.Rows, x.Anchors())
	}
	os.WriteFile(path, flip, 0o644)
	if _, err := Open(path, key); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Errorf("Open of a damaged file: %v", err)
	}
}

// TestNormalizeGolden: the normal forms shared by index and scan.
func TestNormalizeGolden(t *testing.T) {
	for _, c := range []struct {
		class    Class
		in, want string
	}{
		{Digits, "123-45-6789", "123456789"},
		{Digits, "１２３ ４５ ６７８９", "123456789"},
		{Digits, "123\u200b45\u00a06789", "123456789"},
		{Alnum, "AB-12 34", "ab1234"},
		{Email, " <John.Smith@Example.COM> ", "john.smith@example.com"},
		{Phone, "+1 (555) 010-4477", "550104477"},
		{Phone, "555.010.4477", "550104477"},
		{Phone, "0044 20 7946 0958", "079460958"},
		{Phone, "020 7946 0958", "079460958"},
		{Name, "O'Brien, Mary-Ann", "o brien mary ann"},
		{Name, "ＪＯＨＮ  Smith", "john smith"},
		{Date, "1980-03-12", "1980-03-12"},
		{Date, "12 March 1980", "1980-03-12"},
		{Date, "March 12, 1980", "1980-03-12"},
		{Date, "03/12/1980", "1980-03-12"},
		{Date, "13/03/1980", "1980-03-13"},
	} {
		if got := Normalize(c.class, c.in); got != c.want {
			t.Errorf("Normalize(%s, %q) = %q, want %q", c.class, c.in, got, c.want)
		}
	}
}
