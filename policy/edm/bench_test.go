package edm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maildlp/maildlp/policy/dataset"
)

// benchRows is the table size of the benchmarks: EDM_BENCH_ROWS (make
// bench-edm sets one million; 0 or unset skips them, as they build a
// large index first).
func benchRows(b *testing.B) int {
	n, err := strconv.Atoi(os.Getenv("EDM_BENCH_ROWS"))
	if err != nil || n <= 0 {
		b.Skip("EDM_BENCH_ROWS not set (make bench-edm)")
	}
	return n
}

// benchTable writes n rows with three primary columns (ssn, account,
// email) and two supporting ones, fast (no uniqueness check: duplicates
// are rare and only make weak values).
func benchTable(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.Grow(n * 80)
	for i := range n {
		fmt.Fprintf(&b, "%03d-%02d-%04d|AC%09d|user%d.%d@example%d.com|%s|%s\n", 1+r.IntN(899), 1+r.IntN(99), r.IntN(10000),
			r.IntN(1000000000), i, r.IntN(1000), r.IntN(100), firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))])
	}
	return b.String()
}

// benchText is 4 MB of mail-like text: prose with numbers, dates, amounts,
// addresses, order ids and phone numbers, none of them in the table.
func benchText() string {
	r := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for b.Len() < 4<<20 {
		fmt.Fprintf(&b, "Hello %s, thanks for order %d placed on 2024-%02d-%02d for $%d.%02d. ", title(firstNames[r.IntN(len(firstNames))]), r.IntN(100000000), 1+r.IntN(12), 1+r.IntN(28), r.IntN(5000), r.IntN(100))
		fmt.Fprintf(&b, "Call us at (%03d) %03d-%04d or write to support%d@shop.example.com. Your tracking number is 1Z%dX and the invoice INV-%d-%d is attached.\n", r.IntN(1000), r.IntN(1000), r.IntN(10000), r.IntN(100), r.IntN(1e9), r.IntN(10000), r.IntN(100))
		b.WriteString("We appreciate your business and look forward to serving you again; the quarterly report covers revenue, churn and the new regional offices.\n")
	}
	return b.String()
}

var benchIndex struct {
	path string
	key  *Key
	rows int
}

func benchSetup(b *testing.B) {
	if benchIndex.path != "" {
		return
	}
	n := benchRows(b)
	table := benchTable(n)
	key, _ := NewKey()
	cols, _ := ParseColumns("ssn:digits:primary,acct:alnum:primary,email:email:primary,first:name,last:name")
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start, cpu0 := time.Now(), cpu()
	data, _, err := Build(strings.NewReader(table), key, BuildOptions{Name: "bench", Columns: cols, Delimiter: '|'})
	if err != nil {
		b.Fatal(err)
	}
	built, builtCPU := time.Since(start), cpu()-cpu0
	dir, _ := os.MkdirTemp("", "edm-bench")
	path := filepath.Join(dir, "bench.edm")
	if err := WriteIndex(path, data); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d rows x 3 primary + 2 supporting columns: built in %s (%s of CPU), %d bytes = %.1f MB per million rows",
		n, built.Round(time.Millisecond), builtCPU.Round(time.Millisecond), len(data), float64(len(data))/float64(n))
	benchIndex.path, benchIndex.key, benchIndex.rows = path, key, n
}

// BenchmarkEDMLoad: mapping and checking the index (load time).
func BenchmarkEDMLoad(b *testing.B) {
	benchSetup(b)
	for b.Loop() {
		x, err := Open(benchIndex.path, benchIndex.key)
		if err != nil {
			b.Fatal(err)
		}
		x.Close()
	}
}

// BenchmarkEDMScan: matching mail-like text against the index, per core.
func BenchmarkEDMScan(b *testing.B) {
	benchSetup(b)
	x, err := Open(benchIndex.path, benchIndex.key)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	m, err := NewMatcher("bench", x, Options{MinColumns: 3})
	if err != nil {
		b.Fatal(err)
	}
	text := benchText()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		m.Match(text, dataset.Part{}, nil, nil)
	}
}
