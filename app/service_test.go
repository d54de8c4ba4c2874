package app

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/maildlp/maildlp/internal/testutil"
)

// sink is a go-smtp server on loopback standing in for the notification
// relay; it keeps every message it accepts.
type sink struct {
	mu   sync.Mutex
	msgs []string
}

func startSink(t *testing.T) (*sink, string) {
	t.Helper()
	s := &sink{}
	ln := testutil.Listen(t)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s, ln.Addr().String()
}

func (s *sink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

type sinkSession struct{ s *sink }

func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, string(b))
	ss.s.mu.Unlock()
	return nil
}
func (*sinkSession) Reset()        {}
func (*sinkSession) Logout() error { return nil }

const notifyPolicy = `[[detector]]
name  = "codeword"
type  = "keywords"
words = ["alpha"]

[[policy]]
name = "Codeword"
severity = "high"
[policy.rule]
detector = "codeword"
[policy.block]
[policy.notify]
sender = true
to = ["dlp-team@example.com"]
`

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServiceEndToEnd runs the whole service: a message blocked over the
// milter produces a decision line, an incident, a notice delivered to the
// relay through the outbox, and metrics visible over HTTP.
func TestServiceEndToEnd(t *testing.T) {
	relay, relayAddr := startSink(t)
	dir := t.TempDir()
	path := writeConfig(t, dir, "5s", notifyPolicy)
	editConfig(t, path, func(conf string) string {
		return conf + "\n[notify]\nrelay = \"" + relayAddr + "\"\nfrom = \"dlp@example.com\"\noutbox_dir = \"" + filepath.Join(dir, "outbox") + "\"\n"
	})
	ta := openTestApp(t, dir, path, "")
	logs := ta.logs
	ta.run(t)
	metricsURL := "http://" + ta.addr(t, "metrics")
	if code, _ := get(t, metricsURL+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d while serving, want 200", code)
	}

	s := milterSession(t, ta.addr(t, "milter"))
	if act := milterMessage(t, s, "about the alpha project\r\n", nil); !refused(act) {
		t.Fatalf("action %v, want reject", act.Type)
	}

	if !testutil.Poll(testutil.WaitTimeout, func() bool { return len(relay.messages()) > 0 }) {
		t.Fatalf("no notice reached the relay; logs:\n%s", logs.String())
	}
	notice := relay.messages()[0]
	for _, want := range []string{"From: dlp@example.com", "X-Maildlp-Incident: ", "Message-ID: <"} {
		if !strings.Contains(notice, want) {
			t.Errorf("notice lacks %q:\n%s", want, notice)
		}
	}
	inc, err := os.ReadFile(filepath.Join(dir, "incidents.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inc), `"action":"block"`) || !strings.Contains(string(inc), `"notice_id":"`) {
		t.Errorf("incident = %s; want a block with a queued notice", inc)
	}
	if !strings.Contains(logs.String(), `"msg":"decision"`) {
		t.Errorf("no decision line in the log:\n%s", logs.String())
	}
	// The relay has the notice; the outbox counts it once it has removed
	// the file.
	var body string
	testutil.WaitFor(t, "the sent notice in /metrics", func() bool {
		_, body = get(t, metricsURL+"/metrics")
		return strings.Contains(body, `maildlp_outbox_attempts_total{result="sent"} 1`)
	})
	for _, want := range []string{
		`maildlp_messages_total{action="block",frontend="milter"} 1`,
		`maildlp_detections_total{type="codeword"}`,
		`maildlp_outbox_attempts_total{result="sent"} 1`,
		`maildlp_sessions_in_flight{frontend="milter"} 1`,
		`maildlp_scan_duration_seconds_count{frontend="milter"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
