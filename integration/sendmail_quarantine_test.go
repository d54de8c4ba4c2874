package integration

import (
	"encoding/json"
	"fmt"
	"github.com/maildlp/maildlp/internal/testutil"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSendmailQuarantineCLI: `maildlp quarantine` with [quarantine] mta =
// "sendmail" on a real Sendmail: sync records the job mailq -qQ lists,
// list shows it with its incident, release (executed by the node's
// worker with sendmail -qQ -qI<id> -Q, then -qI<id>) has it delivered
// once, and delete removes a second one without delivering it.
func TestSendmailQuarantineCLI(t *testing.T) {
	r := newSendmailRig(t, "inet", DLPConfig{})
	// The worker and the CLI reach this instance's sendmail through the
	// harness's wrapper (its sendmail.cf, its namespace).
	cfg := DLPConfig{Milter: true, Policies: testPolicies, NotifyRelay: r.sink.Addr(), Extra: fmt.Sprintf(
		"[quarantine]\nmta = \"sendmail\"\nsendmail_path = %q\nsendmail_queue_dir = %q\npoll_interval = \"200ms\"\nsync_interval = \"1s\"\n",
		r.sm.Wrapper, filepath.Join(r.sm.Dir, "mqueue"))}
	r.dlp.write(cfg)
	r.dlp.Restart()

	quarantined := func(tag string) (Msg, string) {
		t.Helper()
		m := cleanMsg(tag)
		m.Body += "Contains " + wordQuarantine + "\n"
		res := r.send(m)
		wantAccepted(t, res)
		qid := sendmailQueueID(t, res)
		r.sm.WaitQueue(true, 20*time.Second, "job "+qid+" quarantined", func(q []SendmailEntry) bool {
			for _, e := range q {
				if e.ID == qid {
					return true
				}
			}
			return false
		})
		r.dlp.WaitIncidents(1, 10*time.Second, func(i map[string]any) bool { return i["queue_id"] == qid })
		return m, qid
	}
	type held struct {
		QueueID    string `json:"queue_id"`
		IncidentID string `json:"incident_id"`
		State      string `json:"state"`
	}
	list := func() []held {
		t.Helper()
		out := runMaildlp(t, "quarantine", "list", "--json", "--state", "all", "--config", r.dlp.ConfigPath)
		var hs []held
		dec := json.NewDecoder(strings.NewReader(out))
		for dec.More() {
			var h held
			if err := dec.Decode(&h); err != nil {
				t.Fatalf("quarantine list --json = %q: %v", out, err)
			}
			hs = append(hs, h)
		}
		return hs
	}
	find := func(hs []held, qid string) (held, bool) {
		for _, h := range hs {
			if h.QueueID == qid {
				return h, true
			}
		}
		return held{}, false
	}

	m, qid := quarantined("sm-cli-release")
	inc := r.dlp.WaitIncidents(1, 5*time.Second, func(i map[string]any) bool { return i["queue_id"] == qid })
	// The incident reaches the store through its batch writer; a sync
	// links it to the held job once it is there.
	var h held
	var ok bool
	testutil.Poll(15*time.Second, func() bool {
		runMaildlp(t, "quarantine", "sync", "--config", r.dlp.ConfigPath)
		h, ok = find(list(), qid)
		return ok && h.IncidentID != ""
	})
	if !ok || h.State != "held" || h.IncidentID != incidentID(inc[0]) {
		t.Fatalf("quarantine list: %s = %+v (found %v), want held with incident %s", qid, h, ok, incidentID(inc[0]))
	}
	out := runMaildlp(t, "quarantine", "release", "--queue-id", qid, "--reason", "checked by the test", "--config", r.dlp.ConfigPath)
	if !strings.Contains(out, "released "+qid) {
		t.Errorf("quarantine release = %q, want \"released %s\"", out, qid)
	}
	r.sink.Wait(1, 30*time.Second, withID(m.ID))
	r.sm.Settle()
	if n := countID(r.sink, m.ID); n != 1 {
		t.Fatalf("released message delivered %d times, want 1", n)
	}
	if q := r.sm.Queue(true); len(q) != 0 {
		t.Errorf("quarantine queue after release = %+v, want empty", q)
	}

	m2, qid2 := quarantined("sm-cli-delete")
	out = runMaildlp(t, "quarantine", "delete", "--queue-id", qid2, "--reason", "removed by the test", "--config", r.dlp.ConfigPath)
	if !strings.Contains(out, "deleted "+qid2) {
		t.Errorf("quarantine delete = %q, want \"deleted %s\"", out, qid2)
	}
	if q := r.sm.Queue(true); len(q) != 0 {
		t.Errorf("quarantine queue after delete = %+v, want empty", q)
	}
	for _, f := range []string{"hf" + qid2, "df" + qid2, "qf" + qid2} {
		if _, err := os.Stat(filepath.Join(r.sm.Dir, "mqueue", f)); err == nil {
			t.Errorf("%s still in the queue directory after delete", f)
		}
	}
	r.sm.RunQueue()
	r.sm.Settle()
	if n := countID(r.sink, m2.ID); n != 0 {
		t.Errorf("deleted message delivered %d times", n)
	}
	if h, _ := find(list(), qid2); h.State != "deleted" {
		t.Errorf("quarantine list after delete: %s = %+v, want state deleted", qid2, h)
	}
}
