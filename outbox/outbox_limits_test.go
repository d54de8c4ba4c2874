package outbox

import (
	"bytes"
	"errors"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy/action"
)

func TestMaxAgeGivesUp(t *testing.T) {
	rl := downRelay(t)
	dir := t.TempDir()
	o := testOptions(t, dir, rl.addr)
	clk := clock(o)
	ob := openRun(t, o)
	id := ob.enqueue(t, "i", testNotice)
	testutil.WaitFor(t, "a failed attempt", attempts(t, dir, 1))
	// An attempt that fails a second before max_age is retried...
	clk.Advance(o.MaxAge - time.Second)
	testutil.WaitFor(t, "a second failed attempt", attempts(t, dir, 2))
	if ob.Depth() != 1 {
		t.Fatalf("Depth = %d before max_age, want 1", ob.Depth())
	}
	// ...and the first one that fails at max_age or later is the last.
	clk.Advance(2 * o.RetryMin)
	testutil.WaitFor(t, "give up after max_age", func() bool { return ob.Depth() == 0 })
	reason, err := os.ReadFile(filepath.Join(dir, deadDir, id+".reason"))
	if err != nil || !strings.Contains(string(reason), "max_age") {
		t.Errorf("dead reason = %q, %v; want max_age", reason, err)
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	rl := newRelay(t)
	rl.hold = make(chan struct{})
	o := testOptions(t, t.TempDir(), rl.addr)
	o.Concurrency = 2
	ob := openRun(t, o)
	for range 5 {
		ob.enqueue(t, "i", testNotice)
	}
	testutil.WaitFor(t, "two sessions in DATA", func() bool {
		rl.mu.Lock()
		defer rl.mu.Unlock()
		return rl.inData == 2
	})
	// Three more are due; a round that begins now starts none of them.
	if n := ob.round(t); n != 2 {
		t.Errorf("%d deliveries under way, want 2 (concurrency)", n)
	}
	close(rl.hold)
	testutil.WaitFor(t, "five deliveries", func() bool { return len(rl.messages()) == 5 && ob.Depth() == 0 })
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.maxInData != 2 {
		t.Errorf("at most %d deliveries at once, want 2 (concurrency)", rl.maxInData)
	}
}

func TestOpenCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, tmpPrefix+"123"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"+suffix), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	ob, err := Open(testOptions(t, dir, "127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	if _, err := os.Stat(filepath.Join(dir, tmpPrefix+"123")); !os.IsNotExist(err) {
		t.Errorf("temporary file left by a crash still there: %v", err)
	}
	if ob.Depth() != 0 {
		t.Errorf("Depth = %d, want 0 (unknown names are ignored)", ob.Depth())
	}
}

func TestEnqueueRejectsBadRecipients(t *testing.T) {
	ob, err := Open(testOptions(t, t.TempDir(), "127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	for _, to := range [][]string{nil, {""}, {"a@example.com\r\nRCPT TO:<x@y>"}, {"<a@b>"}} {
		if _, err := ob.Enqueue("i", action.Notice{To: to, Subject: "s"}); err == nil {
			t.Errorf("Enqueue(To=%q) = nil error, want an error", to)
		}
	}
	if ob.Depth() != 0 {
		t.Errorf("Depth = %d after refused notices, want 0", ob.Depth())
	}
}

func TestBackoff(t *testing.T) {
	ob := &Outbox{o: Options{RetryMin: time.Second, RetryMax: 10 * time.Second}}
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {60, 10 * time.Second}} {
		if got := ob.backoff(tc.attempt); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
}

func TestParseName(t *testing.T) {
	e := &entry{id: "1700000000000000000-0123456789abcdef", attempt: 3, next: time.UnixMilli(1700000000123)}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	got, err := parseName(e.fileName(), now)
	if err != nil {
		t.Fatal(err)
	}
	if got.id != e.id || got.attempt != 3 || !got.next.Equal(e.next) || got.created.UnixNano() != 1700000000000000000 {
		t.Errorf("parseName(%q) = %+v, want %+v", e.fileName(), got, e)
	}
	for _, bad := range []string{"x.notice", "1-2.notice", "1700000000000000000-0123456789abcdef_a_b.notice", "1700000000000000000-0123456789abcdef_1.notice"} {
		if _, err := parseName(bad, now); err == nil {
			t.Errorf("parseName(%q) = nil error, want an error", bad)
		}
	}
	// A dead letter moved back (no schedule in its name) is due now.
	back, err := parseName(e.id+suffix, now)
	if err != nil || back.attempt != 0 || !back.next.Equal(now) {
		t.Errorf("parseName(%q) = %+v, %v; want attempt 0 due at %v", e.id+suffix, back, err, now)
	}
}

func TestRenderKeepsHeadersOnOneLine(t *testing.T) {
	msg, err := render("1-0123456789abcdef", "dlp@example.com", time.Unix(0, 0), "inc\r\nBcc: x@y", action.Notice{
		To:      []string{"a@example.com"},
		Subject: "Blocké\r\nBcc: evil@example.com",
		Body:    "line1\nline2 ümlaut",
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if v := m.Header.Get("Bcc"); v != "" {
		t.Errorf("header injection: Bcc = %q", v)
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subj != "Blocké  Bcc: evil@example.com" {
		t.Errorf("Subject decodes to %q, %v", subj, err)
	}
	for _, line := range strings.Split(string(msg), "\r\n") {
		if strings.ContainsAny(line, "\r\n") || len(line) > 998 {
			t.Errorf("bad line %q", line)
		}
		for _, r := range line {
			if r > 127 {
				t.Errorf("non-ASCII in %q: message must be 7-bit", line)
				break
			}
		}
	}
}

func FuzzParseName(f *testing.F) {
	f.Add("1700000000000000000-0123456789abcdef_3_1700000000123.notice")
	f.Add("1700000000000000000-0123456789abcdef.notice")
	f.Add("_._.notice")
	f.Fuzz(func(t *testing.T, name string) {
		e, err := parseName(name, time.Unix(0, 0))
		if err != nil {
			return
		}
		if e.attempt < 0 {
			t.Fatalf("negative attempt from %q", name)
		}
		if _, err := parseName(e.fileName(), time.Unix(0, 0)); err != nil {
			t.Fatalf("fileName of a parsed name does not parse: %q -> %q: %v", name, e.fileName(), err)
		}
	})
}

func got0(msgs []received) []byte { return msgs[0].data }

func TestShutdownAbortsAttemptBeforeData(t *testing.T) {
	rl := newRelay(t)
	stall := make(chan struct{})
	defer close(stall)
	entered := make(chan struct{}, 1)
	rl.rcptReply = func(string) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-stall // the relay hangs at RCPT
		return nil
	}
	dir := t.TempDir()
	m := metrics.New()
	o := testOptions(t, dir, rl.addr)
	o.Metrics = m
	first := openRun(t, o)
	first.enqueue(t, "i", testNotice)
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("delivery never reached RCPT")
	}
	start := time.Now()
	first.stop(t) // must not wait for the stalled relay (Timeout is 5s)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v to stop with an attempt stalled before DATA", d)
	}
	files := noticeFiles(t, dir)
	if len(files) != 1 || !strings.Contains(filepath.Base(files[0]), "_0_") {
		t.Fatalf("after an aborted attempt the outbox holds %v, want the notice still at attempt 0", files)
	}
	if v := counter(t, m, "maildlp_outbox_attempts_total", "retry"); v != 0 {
		t.Errorf("aborted attempt counted as a retry (%v)", v)
	}

	rl2 := newRelay(t)
	second := openRun(t, testOptions(t, dir, rl2.addr))
	testutil.WaitFor(t, "delivery after restart", func() bool { return len(rl2.messages()) == 1 && second.Depth() == 0 })
	if n := len(rl.messages()); n != 0 {
		t.Errorf("stalled relay got %d messages, want 0", n)
	}
}

func TestDeadLetterMovedBackIsSentAfterRescan(t *testing.T) {
	rl := newRelay(t)
	refuse := true
	var mu sync.Mutex
	rl.dataReply = func(int) error {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "not now"}
		}
		return nil
	}
	dir := t.TempDir()
	ob := openRun(t, testOptions(t, dir, rl.addr))
	id := ob.enqueue(t, "i", testNotice)
	testutil.WaitFor(t, "dead letter", func() bool { return ob.Depth() == 0 })
	mu.Lock()
	refuse = false
	mu.Unlock()
	// The operator fixed the cause and moves the notice back.
	if err := os.Rename(filepath.Join(dir, deadDir, id+suffix), filepath.Join(dir, id+suffix)); err != nil {
		t.Fatal(err)
	}
	if n, err := ob.Rescan(); n != 1 || err != nil {
		t.Fatalf("Rescan = %d, %v; want 1, nil", n, err)
	}
	if n, _ := ob.Rescan(); n != 0 {
		t.Errorf("second Rescan added %d, want 0", n)
	}
	testutil.WaitFor(t, "delivery of the revived notice", func() bool { return len(rl.messages()) == 1 && ob.Depth() == 0 })
}

func TestEnqueueRefusedWhenFull(t *testing.T) {
	m := metrics.New()
	o := testOptions(t, t.TempDir(), "127.0.0.1:1")
	o.MaxQueued = 2
	o.Metrics = m
	ob, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	for i := range 2 {
		if _, err := ob.Enqueue("i", testNotice); err != nil {
			t.Fatalf("Enqueue %d: %v", i, err)
		}
	}
	if _, err := ob.Enqueue("i", testNotice); !errors.Is(err, ErrFull) {
		t.Fatalf("third Enqueue with max_queued 2: err = %v, want ErrFull", err)
	}
	if got := len(noticeFiles(t, o.Dir)); got != 2 || ob.Depth() != 2 {
		t.Errorf("%d files, Depth %d; want 2, 2", got, ob.Depth())
	}
	if v := value(t, m, "maildlp_outbox_refused_total", ""); v != 1 {
		t.Errorf("maildlp_outbox_refused_total = %v, want 1", v)
	}
}
