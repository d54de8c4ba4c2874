package reinject

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// limitsEngine is a fakeEngine with a configuration: the hop takes
// spill_bytes and spill_dir from the engine's [limits].
type limitsEngine struct {
	*fakeEngine
	cfg *config.Config
}

func (e limitsEngine) Config() *config.Config { return e.cfg }

func spillEngine(spillBytes config.ByteSize, dir string) limitsEngine {
	return limitsEngine{&fakeEngine{}, &config.Config{Limits: config.Limits{SpillBytes: spillBytes, SpillDir: dir}}}
}

// dotty is a body of n bytes (about) whose lines often start with a dot,
// "..", or are a lone "." : dot-stuffing at every offset.
func dotty(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		switch i % 5 {
		case 0:
			b.WriteString(".\r\n")
		case 1:
			b.WriteString("..two dots\r\n")
		case 2:
			fmt.Fprintf(&b, ".line %d starts with a dot\r\n", i)
		case 3:
			b.WriteString(strings.Repeat("x", i%97) + "\r\n")
		default:
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

// TestIssue12SpillRelay: past spill_bytes the message goes to a
// temporary file; it is relayed byte-identical (dot-stuffing included),
// the engine reads the same bytes, and the file is gone from spill_dir.
func TestIssue12SpillRelay(t *testing.T) {
	bodies := map[string]string{
		"dots":  dotty(300<<10) + string(testutil.BusinessText(200<<10)) + "\r\n",
		"plain": string(testutil.BusinessText(700<<10)) + "\r\n", // sent on without a search for dots
	}
	for _, spillAt := range []config.ByteSize{1, 40, 32 << 10, 100 << 10, 1 << 20} {
		for name, body := range bodies {
			t.Run(fmt.Sprint(name, spillAt), func(t *testing.T) {
				dir := t.TempDir()
				eng := spillEngine(spillAt, dir)
				mta := newFakeMTA(t, nil)
				_, addr := startHop(t, eng, reflectCfg(mta.addr()))
				up := dialUp(t, addr)
				up.hello()
				msg := "From: a@example.com\r\nSubject: big\r\n\r\n" + body
				if got := up.sendMessage("a@example.com", []string{"b@example.com"}, dotStuff(msg)); !strings.HasPrefix(got, "250 ") {
					t.Fatalf("reply %q", got)
				}
				msgs := mta.messages()
				if len(msgs) != 1 {
					t.Fatalf("delivered %d messages, want 1", len(msgs))
				}
				if want := "X-Filter-Loop: Reflected\r\n" + msg; string(msgs[0].Data) != want {
					t.Fatalf("delivered %d bytes, differing from the %d sent at %d", len(msgs[0].Data), len(want), firstDiff(string(msgs[0].Data), want))
				}
				if b := eng.bodies; len(b) != 1 || string(b[0]) != msg {
					t.Fatalf("engine read a different message")
				}
				if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
					t.Errorf("files left in spill_dir: %q", left)
				}
			})
		}
	}
}

// TestIssue12SpillBoundary puts the end of the memory held part at every
// offset of a run of dotted lines, with reads of every size: the engine
// reads the message back whole, and the wire form is dot-stuffed exactly
// as in one piece.
func TestIssue12SpillBoundary(t *testing.T) {
	dir := t.TempDir()
	msg := []byte("Subject: x\r\n\r\n" + dotty(600))
	want := stuffed(t, nil, [][]byte{msg})
	spilled := 0
	for memMax := 1; memMax <= len(msg); memMax += 7 {
		for _, step := range []int{1, 3, 64, 1000} {
			m := newMessage(int64(memMax), dir)
			for off := 0; off < len(msg); {
				buf, err := m.space()
				if err != nil {
					t.Fatal(err)
				}
				n := copy(buf[:min(len(buf), step)], msg[off:])
				m.grow(n)
				off += n
			}
			if err := m.done(); err != nil {
				t.Fatal(err)
			}
			if got, _ := io.ReadAll(m.reader()); !bytes.Equal(got, msg) {
				t.Fatalf("memMax %d step %d: engine read %q", memMax, step, got)
			}
			if m.sp != nil {
				spilled++
			}
			h := m.split("Subject")
			if got := stuffed(t, m.tail(), h.parts(nil)); !bytes.Equal(got, want) {
				t.Fatalf("memMax %d step %d: wire form\n%q\nwant\n%q", memMax, step, got, want)
			}
			m.release()
		}
	}
	if spilled < 100 {
		t.Fatalf("only %d messages spilled", spilled)
	}
}

// dotStuff is msg (starting with a header line) as DATA sends it.
func dotStuff(msg string) string { return strings.ReplaceAll(msg, "\r\n.", "\r\n..") }

// stuffed is the DATA wire form of parts then tail.
func stuffed(t *testing.T, tail io.Reader, parts [][]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	if err := writeMessage(&dotWriter{w: bw, bol: true}, tail, parts); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestIssue12SpillHeaderStaysInMemory: the spill never starts in the
// header, however small spill_bytes, so the header edits see it whole.
func TestIssue12SpillHeaderStaysInMemory(t *testing.T) {
	hdr := "From: a@example.com\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 70)+"\r\n", 2000) + "Subject: q\r\n\r\n"
	m := newMessage(1, t.TempDir())
	defer m.release()
	msg := hdr + "body\r\n"
	for off := 0; off < len(msg); {
		buf, _ := m.space()
		n := copy(buf[:min(len(buf), 700)], msg[off:])
		m.grow(n)
		off += n
	}
	m.done()
	if m.mem < int64(len(hdr)) {
		t.Fatalf("held %d bytes in memory, less than the %d of the header", m.mem, len(hdr))
	}
	if h := m.split("Subject"); !h.has("Subject") {
		t.Fatal("Subject not found in the split header")
	}
}

// TestIssue12SpillHeaderEdits: the subject tag and the pass header are
// added to a message whose body was spilled.
func TestIssue12SpillHeaderEdits(t *testing.T) {
	eng := spillEngine(1<<10, t.TempDir())
	eng.decide = func(policy.Envelope, []byte) action.Verdict {
		return action.Verdict{Action: action.Modify, SubjectPrefix: "[TAG] ", AddHeaders: []action.Header{{Name: "X-Tag", Value: "yes"}}}
	}
	mta := newFakeMTA(t, nil)
	_, addr := startHop(t, eng, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	body := dotty(64 << 10)
	msg := "From: a@example.com\r\nSubject: big\r\n\r\n" + body
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, dotStuff(msg)); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("reply %q", got)
	}
	msgs := mta.messages()
	if len(msgs) != 1 {
		t.Fatalf("delivered %d messages, want 1", len(msgs))
	}
	want := "X-Filter-Loop: Reflected\r\nX-Tag: yes\r\nFrom: a@example.com\r\nSubject: [TAG] big\r\n\r\n" + body
	if got := string(msgs[0].Data); got != want {
		t.Fatalf("delivered %d bytes (differing at %d), want %d", len(got), firstDiff(got, want), len(want))
	}
}

// TestIssue12SpillUnwritable: a message whose spill file cannot be
// created is deferred with the hop's 451, recorded, nothing is sent on,
// and the session stays usable.
func TestIssue12SpillUnwritable(t *testing.T) {
	eng := spillEngine(1<<10, filepath.Join(t.TempDir(), "missing"))
	mta := newFakeMTA(t, nil)
	rec := &recorder{}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithRecorder(rec))
	up := dialUp(t, addr)
	up.hello()
	msg := "From: a@example.com\r\nSubject: big\r\n\r\n" + string(testutil.BusinessText(64<<10))
	got := up.sendMessage("a@example.com", []string{"b@example.com"}, dotStuff(msg))
	if want := action.Render(action.ScanFailed, action.ScanFailed, "", false).String(); got != want {
		t.Fatalf("reply %q, want %q", got, want)
	}
	if n := len(mta.messages()); n != 0 {
		t.Fatalf("delivered %d messages, want none", n)
	}
	if len(eng.bodies) != 0 {
		t.Errorf("engine scanned a message that was not held whole")
	}
	ds := rec.All()
	if len(ds) != 1 || !errors.Is(ds[0].Err, ErrSpill) || ds[0].Applied != action.TempFail {
		t.Fatalf("decisions %+v, want one tempfail with ErrSpill", ds)
	}
	// In step: a small message (held in memory) goes through.
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("next message: reply %q", got)
	}
}

// TestIssue12SpillNoLeak: spill files are closed after relayed, refused
// and failed messages.
func TestIssue12SpillNoLeak(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	eng := spillEngine(1<<10, t.TempDir())
	eng.decide = func(_ policy.Envelope, b []byte) action.Verdict {
		if bytes.Contains(b, []byte("refuse me")) {
			return action.Verdict{Action: action.Block}
		}
		return action.Verdict{Action: action.Pass}
	}
	mta := newFakeMTA(t, func(f *fakeMTA) { f.discard = true })
	_, addr := startHop(t, eng, reflectCfg(mta.addr()))
	big := "Subject: big\r\n\r\n" + string(testutil.BusinessText(64<<10)) + "\r\n"
	send := func(body string) {
		up := dialUp(t, addr)
		up.hello()
		up.sendMessage("a@example.com", []string{"b@example.com"}, dotStuff(body))
		up.cmd("QUIT")
		up.c.Close()
	}
	send(big)
	before := openFDs()
	for range 10 {
		send(big)
		send(big + "refuse me\r\n")
	}
	testutil.WaitFor(t, "spill files closed", func() bool { return openFDs() <= before })
}

func openFDs() int {
	es, _ := os.ReadDir("/proc/self/fd")
	return len(es)
}

// BenchmarkIssue12HopPeakRSS sends one 50 MiB message (max_message_bytes)
// through the hop on the default policy and reports how much it raised
// the process's peak RSS (VmHWM) above what it was after a 4 KiB message:
// the memory one in-flight message costs, the engine's copy included.
//
//	go test -run '^$' -bench Issue12HopPeakRSS -benchtime 1x ./reinject
func BenchmarkIssue12HopPeakRSS(b *testing.B) {
	// The default spill_bytes, and one above the message: held in memory;
	// with the default policy, and with an engine that only reads the
	// message into one buffer (the rise less 50 MiB is the hop's own).
	for _, engine := range []string{"default", "copy"} {
		for _, spillAt := range []config.ByteSize{config.DefaultSpillBytes, 64 << 20} {
			b.Run(fmt.Sprintf("engine=%s/spill_bytes=%dMiB", engine, spillAt>>20), func(b *testing.B) {
				cfg, err := config.Default(detect.IsBuiltin)
				if err != nil {
					b.Fatal(err)
				}
				cfg.Limits.SpillBytes = spillAt
				var eng Evaluator = copyEngine{cfg}
				if engine == "default" {
					if eng, err = policy.New(cfg); err != nil {
						b.Fatal(err)
					}
				}
				benchPeakRSS(b, eng, spillAt)
			})
		}
	}
}

// copyEngine reads the message into one buffer of its size, as the
// engine does before it parses, and passes it.
type copyEngine struct{ cfg *config.Config }

func (e copyEngine) Config() *config.Config { return e.cfg }

func (e copyEngine) Evaluate(_ context.Context, m policy.Message) action.Verdict {
	buf := make([]byte, m.Body.(interface{ Len() int }).Len())
	if _, err := io.ReadFull(m.Body, buf); err != nil {
		return action.Verdict{Err: err}
	}
	return action.Verdict{Action: action.Pass}
}

func benchPeakRSS(b *testing.B, eng Evaluator, spillAt config.ByteSize) {
	mta := newFakeMTA(b, func(f *fakeMTA) { f.discard = true })
	hc := reflectCfg(mta.addr())
	hc.MaxMessageBytes = 50 << 20
	_, addr := startHop(b, eng, hc, WithLogger(slog.New(slog.DiscardHandler)), WithScanTimeout(time.Minute))
	head := "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: report\r\n\r\n"
	small := head + string(testutil.BusinessText(4<<10)) + "\r\n"
	big := append(append([]byte(head), testutil.BusinessText(50<<20-1<<10)...), "\r\n.\r\n"...)
	var rise int64
	var reply string
	for b.Loop() {
		up := dialUp(b, addr)
		up.c.SetDeadline(time.Now().Add(5 * time.Minute))
		up.hello()
		up.sendMessage("alice@example.com", []string{"bob@example.net"}, small)
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		base := peakRSS()
		up.expect("MAIL FROM:<alice@example.com>", "250")
		up.expect("RCPT TO:<bob@example.net>", "250")
		up.expect("DATA", "354")
		if _, err := up.c.Write(big); err != nil { // no copy of the message on the client side
			b.Fatal(err)
		}
		// Any final reply: past max_text_bytes the default policy holds
		// the message (451), after it was received and scanned.
		if reply = up.read(); len(reply) < 4 || reply[0] < '2' || reply[0] > '5' {
			b.Fatalf("reply %q", reply)
		}
		rise = max(rise, peakRSS()-base)
	}
	b.ReportMetric(float64(rise)/(1<<20), "peak-RSS-rise-MiB")
	b.Logf("a %d MiB message raised peak RSS by %.1f MiB (spill_bytes %d MiB; reply %.3s)", len(big)>>20, float64(rise)/(1<<20), spillAt>>20, reply)
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS starts VmHWM again from the current RSS.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// slowReadEngine reads half the message, waits until freed, then reads
// the rest: a scan that outlives the session's wait for it.
type slowReadEngine struct {
	cfg     *config.Config
	release chan struct{}
	got     chan []byte
}

func (e slowReadEngine) Config() *config.Config { return e.cfg }

func (e slowReadEngine) Evaluate(_ context.Context, m policy.Message) action.Verdict {
	n := m.Body.(interface{ Len() int }).Len()
	buf := make([]byte, n)
	io.ReadFull(m.Body, buf[:n/2])
	<-e.release
	k, _ := io.ReadFull(m.Body, buf[n/2:])
	e.got <- buf[:n/2+k]
	return action.Verdict{Action: action.Pass}
}

// TestIssue12SpillScanOutlivesSession: with on_timeout = "accept" the hop
// relays a spilled message while the abandoned scan is still reading the
// same file: each reads at offsets of its own, both get every byte.
func TestIssue12SpillScanOutlivesSession(t *testing.T) {
	eng := slowReadEngine{cfg: &config.Config{Limits: config.Limits{SpillBytes: 1 << 10, SpillDir: t.TempDir()}},
		release: make(chan struct{}), got: make(chan []byte, 1)}
	mta := newFakeMTA(t, nil)
	_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithScanTimeout(50*time.Millisecond),
		WithFailure(config.Failure{OnTimeout: config.OutcomeAccept}))
	up := dialUp(t, addr)
	up.hello()
	msg := "Subject: big\r\n\r\n" + dotty(200<<10)
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, dotStuff(msg)); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("reply %q", got)
	}
	close(eng.release)
	if got := <-eng.got; string(got) != msg {
		t.Fatalf("the scan read %d bytes (differing at %d), want the %d sent", len(got), firstDiff(string(got), msg), len(msg))
	}
	if msgs := mta.messages(); len(msgs) != 1 || string(msgs[0].Data) != msg {
		t.Fatalf("delivered %d messages, want 1 whole, unscanned (no pass header)", len(msgs))
	}
}

// FuzzIssue12Spill holds any message with any spill_bytes and read sizes.
// Oracles: the engine reads the message back whole; the spill starts only
// after the header's empty line, as splitChunks sees it, is in memory;
// the header split and the wire form are those of the message in one
// piece.
func FuzzIssue12Spill(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\n.\r\n..y\r\nbody\r\n"), uint16(1), uint8(3))
	f.Add([]byte("\r\nbody"), uint16(0), uint8(1))
	f.Add([]byte("A: b\n\nc"), uint16(2), uint8(2))
	f.Add([]byte("A: b\r\r\n\r\r\n\r\nc"), uint16(5), uint8(1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, memMax uint16, step uint8) {
		m := newMessage(int64(memMax)+1, dir)
		defer m.release()
		for off := 0; off < len(data); {
			buf, err := m.space()
			if err != nil {
				t.Fatal(err)
			}
			n := copy(buf[:min(len(buf), int(step)+1)], data[off:])
			m.grow(n)
			off += n
		}
		if err := m.done(); err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(m.reader()); !bytes.Equal(got, data) {
			t.Fatalf("read back %q, want %q", got, data)
		}
		whole := splitHeader(data, "Subject")
		if m.sp == nil && m.sep.found != (whole.sep != nil) {
			// Without a spill every byte was looked at: found is exact.
			t.Fatalf("separator found %v, splitHeader found %v", m.sep.found, whole.sep != nil)
		}
		h := m.split("Subject")
		if m.sp != nil && h.sep == nil {
			t.Fatalf("spilled before the header's end (held %d of %d bytes)", m.mem, len(data))
		}
		if h.has("Subject") != whole.has("Subject") || h.count("Subject") != whole.count("Subject") {
			t.Fatalf("split of the held message differs from the whole's")
		}
		var a, b bytes.Buffer
		wa, wb := bufio.NewWriter(&a), bufio.NewWriter(&b)
		if err := writeMessage(&dotWriter{w: wa, bol: true}, m.tail(), h.parts(nil)); err != nil {
			t.Fatal(err)
		}
		if err := writeMessage(&dotWriter{w: wb, bol: true}, nil, whole.parts(nil)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("wire form %q, want %q", a.Bytes(), b.Bytes())
		}
	})
}

// FuzzIssue12DotReaderLines: with any max_line_length and read sizes the
// DATA reader fails with errDataLineTooLong exactly when a line of the
// data (its raw bytes before the LF, stuffing dot and CR included) is
// longer, and otherwise returns what the reference unstuffing does.
func FuzzIssue12DotReaderLines(f *testing.F) {
	f.Add([]byte("abc\r\n..def\r\n\r\n.\r\n"), uint8(3), uint16(300))
	f.Add([]byte("abcdef\r\nx\r\n.\r\n"), uint8(4), uint16(5))
	f.Add([]byte("a\rb\r\nxyz\n.\r\n"), uint8(2), uint16(4000))
	f.Fuzz(func(t *testing.T, in []byte, maxLine uint8, readSize uint16) {
		max := int(maxLine)%40 + 1
		want, _, end, _ := referenceUnstuff(in)
		long, line := false, 0
		e, ok := endOfData(in)
		for i, ch := range in {
			if ok && i >= e {
				break
			}
			if ch == '\n' {
				line = 0
			} else if line++; line > max {
				long = true
				break
			}
		}
		br := bufio.NewReaderSize(&chunkReader{b: in, n: int(readSize)%4096 + 1}, 4096)
		d := newDotReader(br, nil, max, 1<<30, 0, 0)
		got, err := io.ReadAll(d)
		switch {
		case long:
			if !errors.Is(err, errDataLineTooLong) {
				t.Fatalf("err %v, want errDataLineTooLong", err)
			}
		case !end:
			if err == nil {
				t.Fatalf("no error without an end line")
			}
		case err != nil || !bytes.Equal(got, want):
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	})
}

// TestIssue12DotLinesStuffed: a message is sent on without looking for
// dots only when none of its lines can start with one; a dot line sent
// stuffed, and one that normalising a bare LF makes, arrive whole.
func TestIssue12DotLinesStuffed(t *testing.T) {
	for _, tt := range []struct {
		mode      config.BareNewline
		wire, msg string
	}{
		{config.BareNewlineReject, "Subject: x\r\n\r\nplain\r\n", "Subject: x\r\n\r\nplain\r\n"},
		{config.BareNewlineReject, "Subject: x\r\n\r\n..\r\n..b\r\n", "Subject: x\r\n\r\n.\r\n.b\r\n"},
		{config.BareNewlineReject, "..x: y\r\n\r\nb\r\n", ".x: y\r\n\r\nb\r\n"},
		{config.BareNewlineNormalise, "Subject: x\r\n\r\na\n.\r\nb\n.c\r\n", "Subject: x\r\n\r\na\r\n.\r\nb\r\n.c\r\n"},
		{config.BareNewlineNormalise, "Subject: x\r\n\r\na\r.b\r\n", "Subject: x\r\n\r\na\r\n.b\r\n"},
	} {
		mta := newFakeMTA(t, nil)
		cfg := reflectCfg(mta.addr())
		cfg.BareNewline = tt.mode
		_, addr := startHop(t, &fakeEngine{}, cfg)
		up := dialUp(t, addr)
		up.hello()
		if got := up.sendMessage("a@example.com", []string{"b@example.com"}, tt.wire); !strings.HasPrefix(got, "250 ") {
			t.Fatalf("%q: reply %q", tt.wire, got)
		}
		msgs := mta.messages()
		if len(msgs) != 1 {
			t.Fatalf("%s %q: delivered %d messages, want 1", tt.mode, tt.wire, len(msgs))
		}
		if want := "X-Filter-Loop: Reflected\r\n" + tt.msg; string(msgs[0].Data) != want {
			t.Fatalf("%s %q: delivered %q, want %q", tt.mode, tt.wire, msgs[0].Data, want)
		}
	}
}
