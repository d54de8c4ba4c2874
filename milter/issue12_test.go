package milter

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/detect"
)

// TestIssue12SpillRoundTrip: past spill_bytes the message goes to a
// temporary file, and the engine reads back every byte in order, whether
// the spill starts in the header or in the body.
func TestIssue12SpillRoundTrip(t *testing.T) {
	for _, spillAt := range []config.ByteSize{1, 40, 32 << 10, 100 << 10, 1 << 20} {
		t.Run(fmt.Sprint(spillAt), func(t *testing.T) {
			eng := &fakeEngine{limits: config.Limits{SpillBytes: spillAt, SpillDir: t.TempDir(), MaxMessageBytes: 1 << 20}}
			_, addr := startServer(t, eng)
			m := simpleMessage()
			m.body = testutil.BusinessText(300 << 10)
			if r := m.send(t, addr); r.end == nil || r.end.Type != gomilter.ActionAccept {
				t.Fatalf("end = %v, want accept", r.end)
			}
			_, got, _ := eng.snapshot()
			if want := m.wire(); !bytes.Equal(got, []byte(want)) {
				t.Fatalf("engine read %d bytes, want the %d sent", len(got), len(want))
			}
			// The file was unlinked at once: nothing is left in the directory.
			if left, _ := filepath.Glob(filepath.Join(eng.limits.SpillDir, "*")); len(left) != 0 {
				t.Errorf("files left in spill_dir: %q", left)
			}
		})
	}
}

// TestIssue12SpillFailure: a message whose spill file cannot be created
// is not scanned in part: on_error applies (tempfail by default).
func TestIssue12SpillFailure(t *testing.T) {
	eng := &fakeEngine{limits: config.Limits{SpillBytes: 1 << 10, SpillDir: filepath.Join(t.TempDir(), "missing")}}
	rec := &recorder{}
	_, addr := startServer(t, eng, WithRecorder(rec))
	m := simpleMessage()
	m.body = testutil.BusinessText(8 << 10)
	r := m.send(t, addr)
	if r.end == nil || r.end.SMTPCode/100 != 4 {
		t.Fatalf("end = %v, want a tempfail", r.end)
	}
	if calls, _, _ := eng.snapshot(); calls != 0 {
		t.Errorf("engine called %d times on a message it could not get whole", calls)
	}
	d := waitDecisions(t, rec, 1)
	if !errors.Is(d[0].Err, ErrHold) {
		t.Errorf("decision error %v, want ErrHold", d[0].Err)
	}
}

// TestIssue12SpillNoLeak: spill files are closed when the scan ends and
// when the message is aborted before its end.
func TestIssue12SpillNoLeak(t *testing.T) {
	eng := &fakeEngine{limits: config.Limits{SpillBytes: 1 << 10, SpillDir: t.TempDir()}}
	_, addr := startServer(t, eng)
	m := simpleMessage()
	m.body = testutil.BusinessText(64 << 10)
	m.send(t, addr)
	before := openFDs(t)
	for range 20 {
		m.send(t, addr)
		s := openSession(t, addr)
		if s == nil {
			t.FailNow()
		}
		if _, err := s.HeaderField("Subject", " x", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.HeaderEnd(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BodyChunk(testutil.BusinessText(8 << 10)); err != nil {
			t.Fatal(err)
		}
		s.Abort(nil)
		s.Close()
	}
	testutil.WaitFor(t, "spill files closed", func() bool { return openFDs(t) <= before })
}

// BenchmarkIssue12PeakRSS sends one 50 MiB message (max_message_bytes)
// through the milter on the default policy and reports how much it
// raised the process's peak RSS (VmHWM) above what it was after a 4 KiB
// message: the memory one in-flight message costs, the engine's copy
// included.
//
//	go test -run '^$' -bench Issue12PeakRSS -benchtime 1x ./milter
func BenchmarkIssue12PeakRSS(b *testing.B) {
	// The default spill_bytes, and one above the message: held in memory;
	// a business-text body, and a short body with a base64 attachment.
	for _, c := range []struct {
		kind    string
		spillAt config.ByteSize
	}{{"text", config.DefaultSpillBytes}, {"text", 64 << 20}, {"attachment", config.DefaultSpillBytes}} {
		spillAt := c.spillAt
		b.Run(fmt.Sprintf("%s/spill_bytes=%dMiB", c.kind, spillAt>>20), func(b *testing.B) {
			cfg, err := config.Default(detect.IsBuiltin)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Limits.SpillBytes = spillAt
			e, err := policy.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ln, err := Listen("inet:127.0.0.1:0", 0, "")
			if err != nil {
				b.Fatal(err)
			}
			s := New(config.Milter{}.WithDefaults(), func() *policy.Engine { return e }, WithLogger(slog.New(slog.DiscardHandler)))
			testutil.Serve(b, func() error { return s.Serve(ln) }, s.Shutdown)
			addr := ln.Addr().String()
			small, big := simpleMessage(), simpleMessage()
			small.body = testutil.BusinessText(4 << 10)
			big.body = testutil.BusinessText(50<<20 - 1<<10)
			if c.kind == "attachment" {
				big.headers, big.body = base64Attachment(testutil.BusinessText(37 << 20))
			}
			big.readTimeout = time.Minute
			var rise int64
			for b.Loop() {
				small.send(b, addr)
				runtime.GC()
				debug.FreeOSMemory()
				resetPeakRSS()
				base := peakRSS()
				if r := big.send(b, addr); r.end == nil {
					b.Fatal("no answer")
				}
				rise = max(rise, peakRSS()-base)
			}
			b.ReportMetric(float64(rise)/(1<<20), "peak-RSS-rise-MiB")
			b.Logf("a %d MiB message (%s) raised peak RSS by %.1f MiB (spill_bytes %d MiB)", len(big.wire())>>20, c.kind, float64(rise)/(1<<20), spillAt>>20)
		})
	}
}

// base64Attachment is a message with a short text body and data attached
// as a base64 CSV file: its header fields and body.
func base64Attachment(data []byte) ([][2]string, []byte) {
	headers := [][2]string{
		{"From", " Alice <alice@example.com>"},
		{"To", " bob@example.org"},
		{"Subject", " Orders"},
		{"MIME-Version", " 1.0"},
		{"Content-Type", ` multipart/mixed; boundary="b1"`},
	}
	enc := base64.StdEncoding.EncodeToString(data)
	var body bytes.Buffer
	body.WriteString("--b1\r\nContent-Type: text/plain\r\n\r\nThe orders are attached.\r\n--b1\r\n" +
		"Content-Type: text/csv; name=orders.csv\r\nContent-Disposition: attachment; filename=orders.csv\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	for i := 0; i < len(enc); i += 76 {
		body.WriteString(enc[i:min(i+76, len(enc))])
		body.WriteString("\r\n")
	}
	body.WriteString("--b1--\r\n")
	return headers, body.Bytes()
}
