package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestHopThroughService sends mail through the reinjection hop the service
// started: a clean message reaches the downstream with the pass header, a
// violating one is refused with the policy's 5xx and recorded with the
// hop's session id.
func TestHopThroughService(t *testing.T) {
	down, downAddr := startSink(t)
	dir := t.TempDir()
	path := writeConfig(t, dir, "5s", keywordPolicy("alpha"))
	editConfig(t, path, func(conf string) string {
		return strings.Replace(conf, `reflect_to = "127.0.0.1:1"`, `reflect_to = "`+downAddr+`"`, 1)
	})
	ta := openTestApp(t, dir, path, "")
	ta.run(t)
	hop := ta.addr(t, "reinject")

	send := func(body string) error {
		c, err := smtp.Dial(hop)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.CommandTimeout, c.SubmissionTimeout = 10*time.Second, 10*time.Second
		return c.SendMail("alice@example.com", []string{"bob@example.net"},
			strings.NewReader("From: alice@example.com\r\nTo: bob@example.net\r\nSubject: hop\r\n\r\n"+body+"\r\n"))
	}

	if err := send("nothing to see"); err != nil {
		t.Fatalf("clean message refused: %v", err)
	}
	msgs := down.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "X-Filter-Loop: Reflected") {
		t.Fatalf("downstream got %q, want one message with the pass header", msgs)
	}

	err := send("the alpha plan")
	se, ok := err.(*smtp.SMTPError)
	if !ok || se.Code != 550 {
		t.Fatalf("violating message: %v, want a 550", err)
	}
	if n := len(down.messages()); n != 1 {
		t.Errorf("downstream got %d messages after the block, want still 1", n)
	}
	inc, err := os.ReadFile(filepath.Join(dir, "incidents.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inc), `"frontend":"reinject"`) || !strings.Contains(string(inc), `"session_id":"`) || !strings.Contains(string(inc), `"action":"block"`) {
		t.Errorf("incident log = %s; want the hop's block with its session id", inc)
	}
}
