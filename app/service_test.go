package app

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"
	"github.com/emersion/go-smtp"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
	conf, _ := os.ReadFile(path)
	conf = append(conf, []byte("\n[notify]\nrelay = \""+relayAddr+"\"\nfrom = \"dlp@example.com\"\noutbox_dir = \""+filepath.Join(dir, "outbox")+"\"\nretry_min = \"50ms\"\nretry_max = \"200ms\"\n")...)
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	a, err := New(Options{ConfigPath: path, Log: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ta := &testApp{App: a, dir: dir, logs: logs}
	ta.run(t)
	metricsURL := "http://" + ta.addr(t, "metrics")
	if code, _ := get(t, metricsURL+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d while serving, want 200", code)
	}

	c := gomilter.NewClient("tcp", ta.addr(t, "milter"), gomilter.WithReadTimeout(10*time.Second), gomilter.WithWriteTimeout(10*time.Second))
	s, err := c.Session(gomilter.NewMacroBag())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Conn("client.example.com", gomilter.FamilyInet, 4000, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Helo("client.example.com"); err != nil {
		t.Fatal(err)
	}
	if act := milterMessage(t, s, "about the alpha project\r\n", nil); !refused(act) {
		t.Fatalf("action %v, want reject", act.Type)
	}

	deadline := time.Now().Add(10 * time.Second)
	for len(relay.messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no notice reached the relay; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
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
	_, body := get(t, metricsURL+"/metrics")
	for !strings.Contains(body, `maildlp_outbox_attempts_total{result="sent"} 1`) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the relay has it; the outbox is removing the file
		_, body = get(t, metricsURL+"/metrics")
	}
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
