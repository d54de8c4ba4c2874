package idm

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// words is the vocabulary of generated documents: common business words,
// so that documents share short phrases as real ones do.
var words = strings.Fields(`the of and to in a is that for it as with was on be by this are
from at or an have not which but all were when we there can more if out so
said what up its about into than them only other new some could time these two may
then first any like now my such make over our even most me state after also made
many before must through back years where much your way well down should because each
just those people how too little good very still own see men work long get here
between both life being under never day same another know while last might us great
old year off come since against go came right used take three revenue quarter board
merger acquisition forecast margin pricing customer contract supplier confidential
strategy budget headcount pipeline launch product roadmap risk audit legal counsel
settlement patent design prototype partner region market share growth cost plan
target investor dividend restructuring divestiture synergy valuation offer term sheet`)

// genText is n words of random text from the vocabulary, in sentences.
func genText(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		w := words[r.IntN(len(words))]
		if i%12 == 0 {
			if i > 0 {
				b.WriteString(". ")
			}
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		if r.IntN(40) == 0 {
			b.WriteString(" " + strings.Repeat("x", 0) + itoaTest(r.IntN(100000)))
		}
	}
	b.WriteString(".")
	return b.String()
}

func itoaTest(n int) string {
	return strings.TrimLeft(strings.Repeat("0", 0)+string(rune('0'+n%10))+string(rune('0'+n/10%10))+string(rune('0'+n/100%10)), "")
}

// editWords replaces a share p of the words of s by random ones.
func editWords(r *rand.Rand, s string, p float64) string {
	f := strings.Fields(s)
	n := int(float64(len(f))*p + 0.5)
	for _, i := range r.Perm(len(f))[:n] {
		f[i] = words[r.IntN(len(words))] + "zq"
	}
	return strings.Join(f, " ")
}

// excerpt is a contiguous share p of the words of s, from a random start.
func excerpt(r *rand.Rand, s string, p float64) string {
	f := strings.Fields(s)
	n := int(float64(len(f))*p + 0.5)
	start := r.IntN(len(f) - n + 1)
	return strings.Join(f[start:start+n], " ")
}

// quoteWrap re-wraps s at 60 columns and quotes every line with "> ".
func quoteWrap(s string) string {
	var b strings.Builder
	col := 0
	b.WriteString("> ")
	for _, w := range strings.Fields(s) {
		if col+len(w) > 60 {
			b.WriteString("\n> ")
			col = 0
		}
		b.WriteString(w + " ")
		col += len(w) + 1
	}
	return b.String()
}

func testKey(t testing.TB, seed byte) *Key {
	t.Helper()
	var s [keySize]byte
	for i := range s {
		s[i] = seed + byte(i)
	}
	return keyFrom(s)
}

// buildIndex indexes docs (name -> text) and returns the loaded index.
func buildIndex(t testing.TB, key *Key, o BuildOptions, names []string, texts []string, background ...string) (*Index, []byte, []DocReport) {
	t.Helper()
	b := NewBuilder(key, o)
	for i := range names {
		b.Add(names[i], []byte(texts[i]), texts[i])
	}
	for _, bg := range background {
		b.AddBackground(bg)
	}
	var buf bytes.Buffer
	reps, err := b.Write(&buf)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Load(buf.Bytes(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ix, buf.Bytes(), reps
}

// scan matches the parts against ix and returns the hits by document.
func scan(ix *Index, parts ...string) map[int]Hit {
	s := ix.NewScanner()
	s.Reset()
	for _, p := range parts {
		s.Text(p, nil)
	}
	out := make(map[int]Hit)
	for _, h := range s.Hits() {
		out[h.Doc] = h
	}
	return out
}
