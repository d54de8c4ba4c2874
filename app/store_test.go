package app

import (
	"context"
	"github.com/emersion/go-smtp"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/ingest"
	"github.com/maildlp/maildlp/store"
)

// TestIssue10ServiceRecordsToStore sends a violating message through the
// running service's hop: the refusal is recorded in the incident store
// (SQLite in the test's directory) as well as in the incident log.
func TestIssue10ServiceRecordsToStore(t *testing.T) {
	_, downAddr := startSink(t)
	dir := t.TempDir()
	path := writeConfig(t, dir, "5s", keywordPolicy("alpha"))
	conf, _ := os.ReadFile(path)
	conf = []byte(strings.Replace(string(conf), `reflect_to = "127.0.0.1:1"`, `reflect_to = "`+downAddr+`"`, 1))
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
	c, err := smtp.Dial(ta.addr(t, "reinject"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.SendMail("alice@example.com", []string{"bob@example.net"},
		strings.NewReader("From: alice@example.com\r\nTo: bob@example.net\r\nSubject: hop\r\n\r\nthe alpha plan\r\n"))
	c.Close()
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("violating message: %v, want a 550", err)
	}
	st, err := ingest.OpenStore(context.Background(), config.Store{Path: filepath.Join(ta.dir, "maildlp.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ins, _, err := st.List(context.Background(), store.Filter{Policy: "Codeword alpha"}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ins) == 1 {
			in := ins[0]
			if in.Frontend != "reinject" || in.Action != "block" || in.Sender != "alice@example.com" ||
				in.SessionID == "" || len(in.Recipients) != 1 || in.Status != store.StatusNew || in.Direction != "outbound" {
				t.Errorf("stored incident = %+v", in)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store holds %d incidents, want 1; logs:\n%s", len(ins), ta.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
