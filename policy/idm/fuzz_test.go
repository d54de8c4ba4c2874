package idm

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func fuzzIndex(f *testing.F) (*Index, []byte, []string) {
	r := rand.New(rand.NewPCG(77, 1))
	names, texts := confidential(r, 3)
	texts = append(texts, "short exact-only note")
	names = append(names, "note.txt")
	b := NewBuilder(testKey(f, 3), BuildOptions{})
	for i := range texts {
		b.Add(names[i], []byte(texts[i]), texts[i])
	}
	var buf bytes.Buffer
	if _, err := b.Write(&buf); err != nil {
		f.Fatal(err)
	}
	ix, err := Load(buf.Bytes(), testKey(f, 3))
	if err != nil {
		f.Fatal(err)
	}
	return ix, buf.Bytes(), texts
}

// FuzzLoad feeds damaged index files to Load, with their checksum made
// right so that the structural checks are what is tested. Oracle: an
// index Load accepts answers lookups and scans without reading outside
// the data (a panic fails), with hits of documents it holds.
func FuzzLoad(f *testing.F) {
	_, data, texts := fuzzIndex(f)
	f.Add(data)
	f.Add(data[:headerSize])
	f.Add(append(append([]byte(nil), data[:100]...), 0))
	f.Fuzz(func(t *testing.T, d []byte) {
		d = bytes.Clone(d) // the input must not be changed
		if len(d) >= headerSize && bytes.HasPrefix(d, []byte(magic)) {
			binary.LittleEndian.PutUint32(d[80:], crc32.Checksum(d[headerSize:], castagnoli))
		}
		ix, err := Load(d, testKey(t, 3))
		if err != nil {
			return
		}
		s := ix.NewScanner()
		s.Reset()
		s.Text(texts[0], nil)
		for _, h := range s.Hits() {
			if h.Doc < 0 || h.Doc >= len(ix.Docs) || h.Containment < 0 || h.Containment > 1 {
				t.Fatalf("hit %+v of an index of %d documents", h, len(ix.Docs))
			}
		}
	})
}

// FuzzMatch scans arbitrary text. Oracles: the work is linear in the
// text (normalising plus at most the postings of each position, which
// boilerplate suppression bounds by MaxDocs), containment lies in [0,1],
// the passage is never longer than the normalised text, and a text that
// holds a whole indexed document finds it.
func FuzzMatch(f *testing.F) {
	ix, _, texts := fuzzIndex(f)
	f.Add("hello world")
	f.Add(texts[1][:500])
	f.Add(strings.Repeat("a", 300))
	f.Add("ÄÖÜ ＡＢＣ straße\u0301 ﬁ " + texts[2][:200])
	f.Fuzz(func(t *testing.T, text string) {
		s := ix.NewScanner()
		s.Reset()
		steps := 0
		if !s.Text(text, func(n int) bool { steps += n; return true }) {
			t.Fatal("Text stopped without being asked to")
		}
		n := len(Normalize(text))
		if w := s.Work(); w > int64(len(text)+n+(DefaultMaxDocs+1)*n+64) {
			t.Fatalf("work %d for %d bytes of text", w, len(text))
		}
		for _, h := range s.Hits() {
			if h.Containment < 0 || h.Containment > 1 || h.Passage > n || h.Doc >= len(ix.Docs) {
				t.Fatalf("hit %+v for %d normalised bytes", h, n)
			}
		}
		if !utf8.ValidString(Normalize(text)) {
			t.Fatalf("Normalize(%q) is not UTF-8", text)
		}
		// the text with a document appended finds the document whole
		s.Reset()
		s.Text(text+"\n"+texts[0], nil)
		found := false
		for _, h := range s.Hits() {
			found = found || (h.Doc == 0 && h.Containment > 0.95)
		}
		if !found {
			t.Fatalf("document 0 appended to %q not found", text)
		}
	})
}

// FuzzNormalizePieces: normalising a text in pieces cut by pieceEnd gives
// the same result as in one go (Scanner.Text relies on it), and the result is valid UTF-8 with no leading, trailing or double
// space.
func FuzzNormalizePieces(f *testing.F) {
	f.Add("Hello,  World!", 3)
	f.Add("ÄÖÜ ＡＢＣ straße\u0301 ﬁ x", 2)
	f.Add("a\u00a0b\u200bc  -- d", 1)
	f.Add("漢字ß\u0301\u0301ﬁÅ한국어\u1100\u1161\u11a8", 4)
	f.Fuzz(func(t *testing.T, s string, cut int) {
		whole := Normalize(s)
		var pieces []byte
		for rest := s; len(rest) > 0; {
			end := pieceEnd(rest, cut)
			pieces = appendNormalized(pieces, rest[:end])
			rest = rest[end:]
		}
		if got := string(trimSpace(pieces)); got != whole {
			t.Fatalf("in pieces of %d: %q, whole: %q", cut, got, whole)
		}
		if !utf8.ValidString(whole) || strings.HasPrefix(whole, " ") || strings.HasSuffix(whole, " ") || strings.Contains(whole, "  ") {
			t.Fatalf("Normalize(%q) = %q", s, whole)
		}
	})
}
