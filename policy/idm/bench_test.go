package idm

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/corpus"
	"github.com/maildlp/maildlp/policy/dataset"
)

// benchIndex is an index of about n fingerprints: a few real documents
// and synthetic ones with random fingerprints, so that lookups in the
// table cost what they cost at that size.
func benchIndex(b *testing.B, n int) (*Index, []string) {
	b.Helper()
	key := testKey(b, 5)
	r := rand.New(rand.NewPCG(50, 1))
	names, texts := confidential(r, 10)
	bl := NewBuilder(key, BuildOptions{})
	for i := range texts {
		bl.Add(names[i], []byte(texts[i]), texts[i])
	}
	bl.suppress()
	have := 0
	for _, d := range bl.docs {
		have += len(d.fps)
	}
	const perDoc = 10000
	for i := 0; have < n; i++ {
		d := buildDoc{name: "synthetic" + strconv.Itoa(i), norm: make([]byte, 0)}
		d.fps = make([]fingerprint, perDoc)
		for j := range d.fps {
			d.fps[j] = fingerprint{r.Uint64(), j * 33}
		}
		bl.docs = append(bl.docs, d)
		have += perDoc
	}
	var buf bytes.Buffer
	if _, err := bl.write(&buf); err != nil {
		b.Fatal(err)
	}
	ix, err := Load(buf.Bytes(), key)
	if err != nil {
		b.Fatal(err)
	}
	return ix, texts
}

// benchMessage is about 1 MiB of mail text with a quarter of a document
// in it.
func benchMessage(doc string) string {
	var sb strings.Builder
	clean := corpus.CleanDocs(400)
	for i := 0; sb.Len() < 1<<20; i++ {
		sb.WriteString(clean[i%len(clean)].Doc.Text())
		sb.WriteString("\n")
		if i == 50 {
			f := strings.Fields(doc)
			sb.WriteString(strings.Join(f[:len(f)/4], " ") + "\n")
		}
	}
	return sb.String()
}

// BenchmarkScan10M matches 1 MiB of mail text against an index of 10
// million fingerprints (make bench-idm; the target is 50 MB/s per core).
// MAILDLP_IDM_BENCH_FPS sets another size.
func BenchmarkScan10M(b *testing.B) {
	n := 10_000_000
	if s := os.Getenv("MAILDLP_IDM_BENCH_FPS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ix, texts := benchIndex(b, n)
	text := benchMessage(texts[3])
	s := ix.NewScanner()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		s.Reset()
		s.Text(text, nil)
	}
	b.StopTimer()
	hits := s.Hits()
	found := false
	for _, h := range hits {
		found = found || (h.Doc == 3 && testRule.Match(h))
	}
	if !found {
		b.Fatalf("excerpt of document 3 not found: %+v", hits)
	}
	b.ReportMetric(float64(ix.Entries()), "fingerprints")
}

// BenchmarkNormalize is the normaliser alone on mail text.
func BenchmarkNormalize(b *testing.B) {
	text := benchMessage(genText(rand.New(rand.NewPCG(1, 1)), 1000))
	var buf []byte
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		buf = AppendNormalized(buf[:0], text)
	}
}

// BenchmarkMatchSmallPart is the matcher on one short part (a subject, a
// two-line body), the common case, to count its allocations.
func BenchmarkMatchSmallPart(b *testing.B) {
	ix, _ := benchIndex(b, 1000)
	m := NewMatcher("docs", ix, testRule)
	text := "Re: quarterly figures, see you at the board meeting on Friday"
	b.ReportAllocs()
	for b.Loop() {
		m.Match(text, dataset.Part{}, nopMeter{}, nil)
	}
}

type nopMeter struct{}

func (nopMeter) Step(int) bool { return true }
