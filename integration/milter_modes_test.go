package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// TestMilterNotifyRelayDown: with the notification relay down the notice
// waits in the outbox, survives a maildlp restart and arrives once when
// the relay is back (issue item 4).
func TestMilterNotifyRelayDown(t *testing.T) {
	needMaildlp(t)
	relay := NewSink(t)
	relay.Stop()
	r := newMilterRig(t, "inet", DLPConfig{NotifyRelay: relay.Addr()})
	m := cleanMsg("notify-later")
	m.Body += "Contains " + wordNotify + "\n"
	wantAccepted(t, r.send(m))
	r.sink.Wait(1, 30*time.Second, withID(m.ID))
	outbox := filepath.Join(r.dlp.Dir, "outbox")
	if !testutil.Poll(10*time.Second, func() bool { return countFiles(outbox) > 0 }) {
		t.Fatalf("no notice file in the outbox %s while the relay is down", outbox)
	}
	r.dlp.Restart()
	relay.Start()
	notice := relay.Wait(1, 60*time.Second, toAddr(noticeAddr))
	checkNotice(t, notice[0], "test-notify", m.Subject)
	// With its file gone the notice is no longer scheduled: what has been
	// sent by then is all that will be. The restarted maildlp counts its
	// own attempts; the first one never reached the relay.
	const sent = `maildlp_outbox_attempts_total{result="sent"}`
	if !testutil.Poll(10*time.Second, func() bool { return countFiles(outbox) == 0 && r.dlp.Metric(sent) > 0 }) {
		t.Fatalf("outbox still holds %d file(s) after delivery (%s %v)", countFiles(outbox), sent, r.dlp.Metric(sent))
	}
	if n := r.dlp.Metric(sent); n != 1 {
		t.Errorf("%s = %v after the relay came back, want 1", sent, n)
	}
	var got []Delivered
	for _, d := range relay.Messages() {
		if toAddr(noticeAddr)(d) {
			got = append(got, d)
		}
	}
	if len(got) != 1 {
		t.Errorf("notice delivered %d times to %s, want once", len(got), noticeAddr)
	}
}

// countFiles counts regular files under dir (recursively).
func countFiles(dir string) int {
	n := 0
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// TestMilterTrialMode: in trial mode the violating message is delivered
// and the incident is logged with what would have happened (issue item 7).
func TestMilterTrialMode(t *testing.T) {
	r := newMilterRig(t, "inet", DLPConfig{TrialMode: true})
	m := cleanMsg("trial")
	m.Body += "Contains " + wordBlock + "\n"
	wantAccepted(t, r.send(m))
	d := r.sink.Wait(1, 30*time.Second, withID(m.ID))[0]
	if fmt.Sprint(d.To) != "["+recipient+"]" {
		t.Errorf("delivered to %v, want [%s]", d.To, recipient)
	}
	inc := r.dlp.WaitIncidents(1, 10*time.Second, nil)
	s := fmt.Sprint(inc[0])
	if !strings.Contains(s, "test-block") || !strings.Contains(s, "block") {
		t.Errorf("trial incident %s does not record policy test-block and the block it would have applied", s)
	}
}

// TestMilterFailover: with maildlp stopped Postfix tempfails and the
// client can retry; maildlp restarted in the middle of a run of N
// messages loses and duplicates none (issue item 8).
func TestMilterFailover(t *testing.T) {
	r := newMilterRig(t, "inet", DLPConfig{})

	t.Run("stopped", func(t *testing.T) {
		r.dlp.Stop()
		m := cleanMsg("failover-stopped")
		sent := m.Bytes()
		res := SendMail(r.pf.Addr(), m.From, m.To, sent)
		if res.Final.Class() != 4 {
			t.Fatalf("with maildlp stopped: %v, want a 4xx reply", res)
		}
		r.dlp.Start()
		res = SendMail(r.pf.Addr(), m.From, m.To, sent)
		wantAccepted(t, res)
		checkCleanDelivery(t, r.sink, m.ID, sent)
	})

	t.Run("restart-under-load", func(t *testing.T) {
		loadThrough(t, r.pf.Addr(), r.sink, "restart", func() { r.dlp.Restart() })
	})
	t.Run("crash-under-load", func(t *testing.T) {
		loadThrough(t, r.pf.Addr(), r.sink, "crash", func() { r.dlp.Kill(); r.dlp.Start() })
	})
}

// loadThrough sends n messages through addr from a few parallel clients
// while disrupt runs once in the middle. Every message must be either
// accepted (250) and delivered exactly once, or tempfailed (4xx) and not
// delivered; the client then retries the tempfailed ones, after which
// every message is delivered exactly once. Counted at the sink by
// Message-ID.
func loadThrough(t *testing.T, addr string, sink *Sink, tag string, disrupt func()) {
	const n, workers = 60, 4
	type outcome struct {
		id   string
		msg  []byte
		code int
	}
	prefix := "load-" + tag + "-"
	mine := func(d Delivered) bool { return strings.Contains(d.Header("Message-Id"), prefix) }
	results := make([]outcome, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m := cleanMsg(fmt.Sprintf("%s%d", prefix, i))
				b := m.Bytes()
				res := SendMail(addr, m.From, m.To, b)
				results[i] = outcome{id: m.ID, msg: b, code: res.Final.Code}
			}
		}()
	}
	disrupted := make(chan struct{})
	go func() {
		defer close(disrupted)
		time.Sleep(700 * time.Millisecond)
		disrupt()
	}()
	for i := 0; i < n; i++ {
		next <- i
		time.Sleep(25 * time.Millisecond)
	}
	close(next)
	wg.Wait()
	<-disrupted

	var accepted, tempfailed []outcome
	for _, o := range results {
		switch o.code / 100 {
		case 2:
			accepted = append(accepted, o)
		case 4:
			tempfailed = append(tempfailed, o)
		default:
			t.Errorf("message %s: reply code %d, want 250 or 4xx", o.id, o.code)
		}
	}
	t.Logf("%d accepted, %d tempfailed around the disruption", len(accepted), len(tempfailed))
	if len(accepted) > 0 {
		sink.Wait(len(accepted), 60*time.Second, mine)
	}
	counts := countByMessageID(sink.Quiet(3*time.Second, nil))
	for _, o := range accepted {
		if c := counts["<"+o.id+">"]; c != 1 {
			t.Errorf("accepted message %s delivered %d times, want 1", o.id, c)
		}
	}
	for _, o := range tempfailed {
		if c := counts["<"+o.id+">"]; c != 0 {
			t.Errorf("tempfailed message %s delivered %d times, want 0", o.id, c)
		}
	}
	for _, o := range tempfailed {
		wantAccepted(t, SendMail(addr, sender, []string{recipient}, o.msg))
	}
	sink.Wait(n, 60*time.Second, mine)
	counts = countByMessageID(sink.Quiet(3*time.Second, nil))
	for _, o := range results {
		if c := counts["<"+o.id+">"]; c != 1 {
			t.Errorf("message %s delivered %d times after retries, want 1", o.id, c)
		}
	}
}

// runMaildlp runs the maildlp binary with args and returns its standard
// output; a non-zero exit fails t.
func runMaildlp(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(maildlpBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("maildlp %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("maildlp %s: timed out", strings.Join(args, " "))
	}
	return stdout.String()
}
