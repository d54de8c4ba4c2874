package milter

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
)

// lyingZIP is a ZIP of about size bytes whose members each declare
// declared bytes of content, and a compressed size within the expansion
// ratio of it, and hold a few dozen bytes: an extractor that trusts the
// declarations allocates them.
func lyingZIP(size int, declared uint64) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	content := []byte("Quarterly figures, nothing to see here.\n")
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(content)
	fw.Close()
	for i := 0; buf.Len() < size-200; i++ {
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: fmt.Sprintf("m%03d.txt", i), Method: zip.Deflate,
			CRC32: crc32.ChecksumIEEE(content), CompressedSize64: declared / 100,
			UncompressedSize64: declared,
		})
		if err != nil {
			panic(err)
		}
		w.Write(comp.Bytes())
		zw.Flush()
	}
	zw.Close()
	return buf.Bytes()
}

// hostileZIPMessage is a message carrying lyingZIP as an attachment.
func hostileZIPMessage() mta {
	z := lyingZIP(14<<10, 200<<20-64<<10)
	var b strings.Builder
	b.WriteString("--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b1\r\n")
	b.WriteString("Content-Type: application/zip; name=\"r.zip\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"r.zip\"\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(z)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	m := simpleMessage()
	m.headers = append(m.headers, [2]string{"MIME-Version", " 1.0"}, [2]string{"Content-Type", " multipart/mixed; boundary=\"b1\""})
	m.body = []byte(b.String())
	return m
}

// peakRSS is the process's peak resident set size (VmHWM), in bytes.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS starts a new peak (Linux: "5" to clear_refs).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkIssue7HostileZIPs sends 16 messages at once through the milter
// with the default config and policy, each carrying a 14 KB ZIP whose
// members declare 200 MiB, and reports the peak RSS of the process
// (VmHWM) while they run. scripts/bench-hostile.sh runs it alone and
// checks the figure against 256 MB.
//
//	go test -run '^$' -bench Issue7HostileZIPs -benchtime 3x ./milter
func BenchmarkIssue7HostileZIPs(b *testing.B) {
	cfg, e := defaultEngine(b)
	slots := []int{cfg.Limits.ScanSlots(), 16}
	for _, n := range slots {
		b.Run(fmt.Sprintf("max_concurrent_scans=%d", n), func(b *testing.B) {
			ln, err := Listen("inet:127.0.0.1:0", 0, "")
			if err != nil {
				b.Fatal(err)
			}
			s := New(config.Milter{}.WithDefaults(), func() *policy.Engine { return e }, WithLogger(slog.New(slog.DiscardHandler)),
				WithScanSlots(policy.NewSlots(n)))
			testutil.Serve(b, func() error { return s.Serve(ln) }, s.Shutdown)
			m := hostileZIPMessage()
			addr := ln.Addr().String()
			if r := m.send(b, addr); r.end == nil {
				b.Fatal("no answer")
			} else {
				b.Logf("one message: %v, %d modifications", r.end, len(r.mods))
			}
			var peak int64
			for b.Loop() {
				resetPeakRSS()
				var wg sync.WaitGroup
				errs := make(chan error, 16)
				for range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, err := m.trySend(addr)
						if err == nil && r.end == nil {
							err = fmt.Errorf("no final answer")
						}
						if err == nil && r.end.Type != gomilter.ActionAccept && r.end.SMTPCode/100 != 4 && r.end.SMTPCode/100 != 5 {
							err = fmt.Errorf("final answer %v", r.end)
						}
						errs <- err
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				peak = max(peak, peakRSS())
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			b.Logf("peak RSS with 16 hostile ZIP messages in parallel: %.1f MiB (max_concurrent_scans=%d)", float64(peak)/(1<<20), n)
		})
	}
}
