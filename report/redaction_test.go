package report

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/outbox"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// luhnComplete appends the Luhn check digit to the 15-digit prefix.
func luhnComplete(prefix string) string {
	sum := 0
	for i := len(prefix) - 1; i >= 0; i-- {
		d := int(prefix[i] - '0')
		if (len(prefix)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return prefix + strconv.Itoa((10-sum%10)%10)
}

// TestRecordRedacted runs a message with card numbers through the real
// engine and the Journal and checks that no card number reaches the log
// line, the incident or the queued notice, in any spelling.
func TestRecordRedacted(t *testing.T) {
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var cards []string
	for _, p := range []string{"453201511283036", "455673758689985", "491693571234567", "402400715487324", "448592356781234", "453978120654321"} {
		cards = append(cards, luhnComplete(p))
	}
	var body strings.Builder
	body.WriteString("From: alice@example.com\r\nTo: bob@example.net\r\nSubject: card numbers\r\n\r\nPlease charge these credit cards:\r\n")
	for _, c := range cards {
		body.WriteString("card " + c[:4] + " " + c[4:8] + " " + c[8:12] + " " + c[12:] + "\r\n")
	}
	// Authenticated: the default policy notifies a sender it believes.
	env := policy.Envelope{QueueID: "4XyZ1", ClientAddr: "192.0.2.1", AuthUser: "alice", MailFrom: "alice@example.com", Rcpts: []string{"bob@example.net"}}
	v := eng.Evaluate(context.Background(), policy.Message{Envelope: env, Body: strings.NewReader(body.String())})
	if v.Action != action.Block || len(v.Notices) == 0 || len(v.Detections) == 0 {
		t.Fatalf("verdict %v with %d notices, %d detections; want block with a notice (default policy, bulk cards)", v.Action, len(v.Notices), len(v.Detections))
	}

	dir := t.TempDir()
	ob, err := outbox.Open(outbox.Options{Dir: filepath.Join(dir, "outbox"), Relay: "127.0.0.1:1", From: "dlp@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	var logs bytes.Buffer
	incPath := filepath.Join(dir, "incidents.jsonl")
	j, err := NewRecorder(config.Incidents{Path: incPath, Sync: config.SyncAlways}, slog.New(slog.NewJSONHandler(&logs, nil)), nil, ob)
	if err != nil {
		t.Fatal(err)
	}
	j.Record(Decision{Frontend: "milter", Envelope: env, Verdict: v, Applied: v.Action})
	j.Close()

	outputs := map[string]string{"decision log": logs.String()}
	inc, err := os.ReadFile(incPath)
	if err != nil {
		t.Fatal(err)
	}
	outputs["incident"] = string(inc)
	notices, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.notice"))
	if len(notices) == 0 {
		t.Fatal("no notice queued")
	}
	for _, n := range notices {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		outputs["notice "+filepath.Base(n)] = string(b)
	}
	if !strings.Contains(outputs["incident"], "****") {
		t.Errorf("incident carries no masked evidence:\n%s", outputs["incident"])
	}
	for name, out := range outputs {
		flat := strings.NewReplacer(" ", "", "-", "", "=\r\n", "", "=\n", "").Replace(out)
		for _, c := range cards {
			if strings.Contains(out, c) || strings.Contains(flat, c) || strings.Contains(out, c[:4]+" "+c[4:8]+" "+c[8:12]) {
				t.Errorf("card number %s leaked into the %s:\n%s", c, name, out)
			}
		}
	}
}
