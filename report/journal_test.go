package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/outbox"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// testConfig is an [incidents] section as Load makes it ("" sync: the
// default mode).
func testConfig(incidents string, sync config.SyncMode) config.Incidents {
	if sync == "" {
		sync = config.DefaultIncidentSync
	}
	return config.Incidents{Path: incidents, Sync: sync, SyncInterval: config.Duration(config.DefaultIncidentSyncInterval)}
}

func readIncidents(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("incident line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

var blockDecision = Decision{
	Frontend: "milter",
	Envelope: policy.Envelope{QueueID: "4XyZ1", ClientAddr: "192.0.2.7", MailFrom: "alice@example.com", Rcpts: []string{"bob@example.net", "carol@example.net"}},
	Verdict: action.Verdict{
		Action:     action.Block,
		IncidentID: "inc-1",
		Reply:      action.Reply{Code: 550, Enhanced: "5.7.1", Text: "refused by PCI (incident inc-1)"},
		Policies:   []action.PolicyHit{{Name: "PCI", Severity: "high", Mode: "prevent", Action: action.Block}},
		Detections: []action.Detection{{Type: "credit_card", Count: 2, Confidence: "high", Evidence: []string{"****1111", "****4444"}, Locations: []string{"body"}}},
	},
	Applied:  action.Block,
	Duration: 1500 * time.Microsecond,
}

func TestDecisionLogLineKeys(t *testing.T) {
	var buf bytes.Buffer
	j, err := NewRecorder(testConfig("", ""), slog.New(slog.NewJSONHandler(&buf, nil)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.Record(blockDecision)
	d2 := blockDecision
	d2.Frontend = "reinject"
	d2.Applied = action.TempFail
	d2.Envelope.SessionID, d2.Envelope.QueueID = "a1b2c3d4e5f6.1", ""
	d2.Err = errors.New("scan deadline exceeded")
	j.Record(d2)

	lines := logLines(t, &buf)
	if len(lines) != 2 {
		t.Fatalf("%d log lines for 2 decisions, want 2:\n%s", len(lines), buf.String())
	}
	first := lines[0]
	want := map[string]any{
		"msg": "decision", "level": "INFO", "queue_id": "4XyZ1", "frontend": "milter", "client": "192.0.2.7",
		"sender": "alice@example.com", "rcpt_count": 2.0, "action": "block", "verdict_action": "block",
		"policies": []any{"PCI"}, "incident_id": "inc-1", "duration": float64(1500 * time.Microsecond),
		"detections": []any{"credit_card:2"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(first[k], v) {
			t.Errorf("log key %s = %#v, want %#v", k, first[k], v)
		}
	}
	if _, ok := first["error"]; ok {
		t.Errorf("error key present without an error: %v", first)
	}
	second := lines[1]
	// TestIssue9SessionAndQueueID: the session id and the MTA's queue id
	// are two keys, never one written under the other's name.
	if second["session_id"] != "a1b2c3d4e5f6.1" || second["queue_id"] != "" {
		t.Errorf("reinject decision: session_id = %v, queue_id = %v; want the session id and no queue id", second["session_id"], second["queue_id"])
	}
	if second["level"] != "WARN" || second["error"] != "scan deadline exceeded" || second["action"] != "tempfail" || second["verdict_action"] != "block" {
		t.Errorf("failure decision logged as %v", second)
	}
}

func TestIncidentRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents.jsonl")
	j, err := NewRecorder(testConfig(path, "always"), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pass := Decision{Frontend: "milter", Envelope: policy.Envelope{QueueID: "P1", MailFrom: "a@example.com", Rcpts: []string{"b@example.com"}}, Applied: action.Pass}
	redirect := Decision{
		Frontend: "milter",
		Envelope: policy.Envelope{QueueID: "R1", MailFrom: "a@example.com", Rcpts: []string{"x@example.net", "y@example.net"}},
		Verdict: action.Verdict{
			Action: action.Redirect, IncidentID: "inc-r", RedirectTo: []string{"review@example.com"},
			Policies: []action.PolicyHit{
				{Name: "PII", Severity: "medium", Mode: "prevent", Action: action.Redirect},
				{Name: "Secrets", Severity: "critical", Mode: "monitor", Action: action.Block},
			},
		},
		Applied: action.Redirect,
	}
	trial := Decision{
		Frontend: "reinject",
		Envelope: policy.Envelope{SessionID: "S1", QueueID: "Q1", MailFrom: "a@example.com", Rcpts: []string{"z@example.net"}},
		Verdict: action.Verdict{
			Action: action.Pass, IncidentID: "inc-t",
			Policies:    []action.PolicyHit{{Name: "PCI", Severity: "high", Mode: "monitor", Action: action.Quarantine}},
			Unscannable: []action.Unscannable{{Location: `attachment "x.zip"`, Reason: "encrypted"}},
		},
		Applied: action.Pass,
	}
	for _, d := range []Decision{pass, redirect, trial} {
		j.Record(d)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	got := readIncidents(t, path)
	if len(got) != 2 {
		t.Fatalf("%d incidents, want 2 (a clean pass is not an incident)", len(got))
	}
	r := got[0]
	if r["queue_id"] != "R1" || r["action"] != "redirect" || r["incident_id"] != "inc-r" {
		t.Errorf("redirect incident = %v", r)
	}
	if !reflect.DeepEqual(r["recipients"], []any{"x@example.net", "y@example.net"}) || !reflect.DeepEqual(r["redirect_to"], []any{"review@example.com"}) {
		t.Errorf("redirect incident recipients = %v redirect_to = %v; want the original recipients and the review address", r["recipients"], r["redirect_to"])
	}
	if r["would_action"] != "block" {
		t.Errorf("would_action = %v, want block (the monitor-mode Secrets policy)", r["would_action"])
	}
	wantPolicies := []any{
		map[string]any{"name": "PII", "severity": "medium", "mode": "prevent", "action": "redirect", "enforced": true},
		map[string]any{"name": "Secrets", "severity": "critical", "mode": "monitor", "action": "block", "enforced": false},
	}
	if !reflect.DeepEqual(r["policies"], wantPolicies) {
		t.Errorf("policies = %v, want %v", r["policies"], wantPolicies)
	}
	tr := got[1]
	if tr["session_id"] != "S1" || tr["queue_id"] != "Q1" || tr["action"] != "pass" || tr["would_action"] != "quarantine" {
		t.Errorf("trial incident = %v; want action pass, would_action quarantine", tr)
	}
	if u, _ := tr["unscannable"].([]any); len(u) != 1 {
		t.Errorf("trial incident unscannable = %v", tr["unscannable"])
	}
}

func TestNoticesQueuedBeforeRecordReturns(t *testing.T) {
	dir := t.TempDir()
	ob, err := outbox.Open(outbox.Options{Dir: filepath.Join(dir, "outbox"), Relay: "127.0.0.1:1", From: "dlp@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	m := metrics.New()
	path := filepath.Join(dir, "incidents.jsonl")
	j, err := NewRecorder(testConfig(path, "never"), nil, m, ob)
	if err != nil {
		t.Fatal(err)
	}
	d := blockDecision
	d.Verdict.Notices = []action.Notice{{To: []string{"alice@example.com"}, Subject: "blocked", Body: "credit_card ****1111"}}
	j.Record(d)
	// No Run loop: the notice can only be on disk.
	files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.notice"))
	if len(files) != 1 || ob.Depth() != 1 {
		t.Fatalf("after Record: %d notice files, Depth %d; want 1, 1", len(files), ob.Depth())
	}

	// A failure-class tempfail defers the notices to the retry.
	d.Applied = action.TempFail
	d.Err = errors.New("engine error")
	j.Record(d)
	if ob.Depth() != 1 {
		t.Errorf("Depth = %d after a tempfailed decision, want 1 (notice deferred)", ob.Depth())
	}
	// A tempfail the configuration asks for (no failure) sends them.
	d.Err = nil
	j.Record(d)
	if ob.Depth() != 2 {
		t.Errorf("Depth = %d after a configured tempfail, want 2 (notice queued)", ob.Depth())
	}
	j.Close()
	got := readIncidents(t, path)
	if len(got) != 3 {
		t.Fatalf("%d incidents, want 3", len(got))
	}
	n0 := got[0]["notices"].([]any)[0].(map[string]any)
	if id, _ := n0["notice_id"].(string); id == "" || !strings.Contains(files[0], id) {
		t.Errorf("incident notice_id = %v, want the id of %s", n0["notice_id"], files[0])
	}
	n1 := got[1]["notices"].([]any)[0].(map[string]any)
	if e, _ := n1["error"].(string); !strings.Contains(e, "tempfailed") {
		t.Errorf("deferred notice error = %v", n1["error"])
	}
}

func TestNoticeWithoutRelayIsLogged(t *testing.T) {
	var buf bytes.Buffer
	j, err := NewRecorder(testConfig("", ""), slog.New(slog.NewJSONHandler(&buf, nil)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := blockDecision
	d.Verdict.Notices = []action.Notice{{To: []string{"alice@example.com"}, Subject: "s", Body: "b"}}
	j.Record(d)
	if !strings.Contains(buf.String(), "notice not sent: no notification relay configured") {
		t.Errorf("dropped notice not logged:\n%s", buf.String())
	}
}

func TestMetricsFromDecisions(t *testing.T) {
	m := metrics.New()
	j, err := NewRecorder(testConfig("", ""), nil, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := blockDecision
	d.Verdict.Unscannable = []action.Unscannable{{Location: "x", Reason: "encrypted"}, {Location: "y", Reason: "timeout"}}
	j.Record(d)
	j.Record(d)
	got := gather(t, m)
	for k, want := range map[string]float64{
		`maildlp_messages_total{action="block",frontend="milter"}`: 2,
		`maildlp_detections_total{type="credit_card"}`:             4,
		`maildlp_unscannable_total{reason="encrypted"}`:            2,
		`maildlp_unscannable_total{reason="timeout"}`:              2,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
}

func TestIncidentLogSyncModesAndReopen(t *testing.T) {
	for _, mode := range []config.SyncMode{config.SyncAlways, config.SyncInterval, config.SyncNever} {
		t.Run(string(mode), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "incidents.jsonl")
			cfg := testConfig(path, mode)
			cfg.SyncInterval = config.Duration(10 * time.Millisecond)
			j, err := NewRecorder(cfg, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			j.Record(blockDecision)
			if mode == "interval" {
				il := j.incidents
				testutil.WaitFor(t, "an interval sync", func() bool {
					il.mu.Lock()
					defer il.mu.Unlock()
					return !il.dirty
				})
			}
			// logrotate: move the file away, then reopen.
			rotated := path + ".1"
			if err := os.Rename(path, rotated); err != nil {
				t.Fatal(err)
			}
			if err := j.Reopen(); err != nil {
				t.Fatal(err)
			}
			j.Record(blockDecision)
			j.Record(blockDecision)
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if n := len(readIncidents(t, rotated)); n != 1 {
				t.Errorf("rotated file has %d incidents, want 1", n)
			}
			if n := len(readIncidents(t, path)); n != 2 {
				t.Errorf("new file has %d incidents, want 2", n)
			}
			j.Record(blockDecision) // after Close: logged, not a panic
		})
	}
}

func TestIncidentLogOpenError(t *testing.T) {
	_, err := NewRecorder(testConfig(filepath.Join(t.TempDir(), "missing", "incidents.jsonl"), ""), nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "open incident log") {
		t.Errorf("NewRecorder with an unwritable path: err = %v", err)
	}
}

// gather returns every sample as `name{labels}` -> value.
func gather(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			var labels []string
			for _, lp := range s.GetLabel() {
				labels = append(labels, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			sort.Strings(labels)
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case s.GetCounter() != nil:
				out[key] = s.GetCounter().GetValue()
			case s.GetGauge() != nil:
				out[key] = s.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestNoticeRefusedByFullOutboxIsRecorded(t *testing.T) {
	dir := t.TempDir()
	ob, err := outbox.Open(outbox.Options{Dir: filepath.Join(dir, "outbox"), Relay: "127.0.0.1:1", From: "dlp@example.com", MaxQueued: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	var logs bytes.Buffer
	path := filepath.Join(dir, "incidents.jsonl")
	j, err := NewRecorder(testConfig(path, "never"), slog.New(slog.NewJSONHandler(&logs, nil)), nil, ob)
	if err != nil {
		t.Fatal(err)
	}
	d := blockDecision
	d.Verdict.Notices = []action.Notice{
		{To: []string{"alice@example.com"}, Subject: "s", Body: "b"},
		{To: []string{"dlp-team@example.com"}, Subject: "s", Body: "b"},
	}
	j.Record(d)
	j.Close()
	ns := readIncidents(t, path)[0]["notices"].([]any)
	first, second := ns[0].(map[string]any), ns[1].(map[string]any)
	if first["notice_id"] == nil || second["notice_id"] != nil || !strings.Contains(fmt.Sprint(second["error"]), "outbox: full") {
		t.Errorf("notices = %v; want the first queued and the second refused as full", ns)
	}
	if !strings.Contains(logs.String(), `"msg":"queue notice"`) || !strings.Contains(logs.String(), "outbox: full") {
		t.Errorf("refused notice not logged:\n%s", logs.String())
	}
}
