package detect

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// businessText returns about n bytes of ordinary business prose with many
// numbers that are not sensitive: dates, amounts, phone numbers, invoice
// and order numbers, times, percentages, postcodes, versions.
func businessText(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields(`the invoice for our quarterly services is attached please find the
		summary of hours and expenses below we have applied the agreed discount and the payment
		terms remain unchanged let me know if you have questions regarding the delivery schedule
		meeting notes from the project review include action items owners and due dates the
		team agreed to move the release to next week after the customer feedback session
		Regards Thanks Hello Dear Best Kind regards Monday Tuesday Wednesday Thursday Friday`)
	num := []func() string{
		func() string { return fmt.Sprintf("%04d-%02d-%02d", 2000+r.IntN(30), 1+r.IntN(12), 1+r.IntN(28)) },
		func() string { return fmt.Sprintf("%02d.%02d.%04d", 1+r.IntN(28), 1+r.IntN(12), 2000+r.IntN(30)) },
		func() string { return fmt.Sprintf("%02d/%02d/%04d", 1+r.IntN(12), 1+r.IntN(28), 2000+r.IntN(30)) },
		func() string { return fmt.Sprintf("$%d,%03d.%02d", r.IntN(999), r.IntN(1000), r.IntN(100)) },
		func() string { return fmt.Sprintf("%d.%03d,%02d EUR", r.IntN(999), r.IntN(1000), r.IntN(100)) },
		func() string { return fmt.Sprintf("+1 %03d %03d %04d", 200+r.IntN(700), r.IntN(1000), r.IntN(10000)) },
		func() string { return fmt.Sprintf("(%03d) %03d-%04d", 200+r.IntN(700), r.IntN(1000), r.IntN(10000)) },
		func() string { return fmt.Sprintf("+49 30 %07d", r.IntN(10000000)) },
		func() string { return fmt.Sprintf("INV-%04d-%05d", 2000+r.IntN(30), r.IntN(100000)) },
		func() string { return fmt.Sprintf("order #%06d", r.IntN(1000000)) },
		func() string { return fmt.Sprintf("%02d:%02d", r.IntN(24), r.IntN(60)) },
		func() string { return fmt.Sprintf("%d.%d%%", r.IntN(100), r.IntN(10)) },
		func() string { return fmt.Sprintf("%05d", r.IntN(100000)) },
		func() string { return fmt.Sprintf("v%d.%d.%d", r.IntN(10), r.IntN(20), r.IntN(100)) },
		func() string { return fmt.Sprintf("%d units", 1+r.IntN(500)) },
	}
	var b strings.Builder
	for b.Len() < n {
		for k := 0; k < 6+r.IntN(10); k++ {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		b.WriteString(num[r.IntN(len(num))]())
		if r.IntN(8) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteString(", ")
		}
	}
	return b.String()[:n]
}

// denseText returns about n bytes with a valid identifier of every kind in
// every line, most next to a keyword.
func denseText(n int) string {
	lines := []string{
		"Card 4111 1111 1111 1111 exp 12/25, IBAN GB82 WEST 1234 5698 7654 32",
		"SSN 536-22-1234 ITIN 912-70-1234 routing 021000021 BIC DEUTDEFF",
		"NINO JG 10 37 59 A NHS 943 476 5919 Steuer-ID 86095742719 NIR 295109912611193",
		"DNI 54362315K NIE X2482300W codice fiscale RSSMRA85T10A562S BSN 111222333",
		"PESEL 44051401359 SIN " + luhnComplete("13045428") + " TFN 123 456 782 Aadhaar 2341 2341 2346 PAN BNZPM2501F",
		"aws AKIAQWERTY234567ABCD secret Zq3+8hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5K AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
		"token " + fakeGitHubToken("ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1") + " xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1 sk_live_4eC39HqLyjWDarjtT1zdp7dc",
		"jwt " + fakeJWT(`{"alg":"RS256"}`, `{"sub":"u1"}`) + " https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
	}
	var b strings.Builder
	for k := 0; b.Len() < n; k++ {
		b.WriteString(lines[k%len(lines)])
		b.WriteString(". Some ordinary words follow to separate the lines.\n")
	}
	return b.String()[:n]
}

// benchScan runs s.Scan over text. Besides ns/op and MB/s (wall clock),
// it reports cpu-MB/s: throughput over the CPU time of the benchmark's own
// thread, which stays meaningful on a machine busy with other work.
func benchScan(b *testing.B, s interface{ Scan(string, []Match) []Match }, text string) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var ms []Match
	cpu0, ok := threadCPU()
	n := 0
	for b.Loop() {
		ms = s.Scan(text, ms[:0])
		n++
	}
	if cpu1, _ := threadCPU(); ok && cpu1 > cpu0 {
		b.ReportMetric(float64(n)*float64(len(text))/(cpu1-cpu0).Seconds()/1e6, "cpu-MB/s")
	}
	b.ReportMetric(float64(len(ms)), "matches/op")
}

// BenchmarkScanClean: 1 MiB of business text without sensitive data, every
// built-in identifier enabled.
func BenchmarkScanClean(b *testing.B) {
	benchScan(b, mustSet(b, allNames()...), businessText(1<<20))
}

// BenchmarkScanOrderReport: the body of the end-to-end benchmarks'
// message, order lines dense with numbers (testutil.OrderLines), 4 KiB
// and 1 MiB, every built-in identifier enabled.
func BenchmarkScanOrderReport(b *testing.B) {
	s := mustSet(b, allNames()...)
	for _, n := range []int{4 << 10, 1 << 20} {
		b.Run(fmt.Sprint(n>>10, "K"), func(b *testing.B) { benchScan(b, s, testutil.OrderLines(n)) })
	}
}

// BenchmarkScanDense: 1 MiB with valid identifiers of every kind on every
// line.
func BenchmarkScanDense(b *testing.B) {
	benchScan(b, mustSet(b, allNames()...), denseText(1<<20))
}

// BenchmarkScanSmall: 4 KiB messages with a few identifiers each.
func BenchmarkScanSmall(b *testing.B) {
	s := mustSet(b, allNames()...)
	text := businessText(4096-200) + " card 4111111111111111, SSN 536-22-1234, IBAN GB82WEST12345698765432 "
	benchScan(b, s, text)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkScanCleanCustom: the clean text with every built-in plus a
// 10,000-word dictionary and two regular expressions.
func BenchmarkScanCleanCustom(b *testing.B) {
	var words []string
	for i := range 10000 {
		words = append(words, fmt.Sprintf("codename%05d", i))
	}
	kw, err := NewKeywords("dict", words, KeywordOptions{WholeWord: true})
	if err != nil {
		b.Fatal(err)
	}
	re1, _ := NewRegex("emp", `EMP-[0-9]{6}`, Medium)
	re2, _ := NewRegex("proj", `(?i)project\s{1,3}falcon`, Medium)
	s, err := NewSet(allNames(), []Detector{kw, re1, re2}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchScan(b, s, businessText(1<<20))
}

// BenchmarkKeywords10k: a 10,000-word dictionary alone over clean text.
func BenchmarkKeywords10k(b *testing.B) {
	var words []string
	for i := range 10000 {
		words = append(words, fmt.Sprintf("codename%05d", i))
	}
	kw, err := NewKeywords("dict", words, KeywordOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchScan(b, kw, businessText(1<<20))
}

// BenchmarkKeywordPhrases10k: 10,000 two-word phrases alone over clean
// text; every phrase starts with "the", a frequent word of the text, so
// the automaton often reads past a space.
func BenchmarkKeywordPhrases10k(b *testing.B) {
	var words []string
	for i := range 10000 {
		words = append(words, fmt.Sprintf("the codename%05d", i))
	}
	kw, err := NewKeywords("dict", words, KeywordOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchScan(b, kw, businessText(1<<20))
}

func BenchmarkLuhn(b *testing.B) {
	d := []byte("4111111111111111")
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		luhn(d)
	}
}

// BenchmarkScanKeywordLists: the clean text with every built-in and 20
// keyword lists of 50 words each, searched together in one pass.
func BenchmarkScanKeywordLists(b *testing.B) {
	var custom []Detector
	for l := range 20 {
		var words []string
		for w := range 50 {
			words = append(words, fmt.Sprintf("list%02dterm%02d", l, w))
		}
		d, err := NewKeywords(fmt.Sprintf("list%02d", l), words, KeywordOptions{WholeWord: l%2 == 0, CaseSensitive: l%5 == 0})
		if err != nil {
			b.Fatal(err)
		}
		custom = append(custom, d)
	}
	s, err := NewSet(allNames(), custom, Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchScan(b, s, businessText(1<<20))
}
