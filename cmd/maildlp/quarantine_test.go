package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePostfix puts postqueue and postsuper scripts on PATH. Each appends
// its arguments to calls.log; postqueue prints queue (postqueue -j
// output); postsuper fails when superFail is set.
func fakePostfix(t *testing.T, queue string, superFail bool) (calls func() []string) {
	t.Helper()
	dir := t.TempDir()
	logf := filepath.Join(dir, "calls.log")
	qf := filepath.Join(dir, "queue.jsonl")
	if err := os.WriteFile(qf, []byte(queue), 0o600); err != nil {
		t.Fatal(err)
	}
	postqueue := "#!/bin/sh\necho \"postqueue $*\" >> " + logf + "\n" +
		"case \" $* \" in *\" -j \"*) cat " + qf + ";; *) echo 'postqueue: unexpected arguments' >&2; exit 64;; esac\n"
	postsuper := "#!/bin/sh\necho \"postsuper $*\" >> " + logf + "\n"
	if superFail {
		postsuper += "echo 'postsuper: fatal: use of this command is reserved for the superuser' >&2\nexit 1\n"
	}
	for name, body := range map[string]string{"postqueue": postqueue, "postsuper": postsuper} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() []string {
		b, err := os.ReadFile(logf)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
}

const testQueue = `{"queue_name":"hold","queue_id":"4XyZ1AbCdE","arrival_time":1763900000,"message_size":2048,"forced_expire":false,"sender":"alice@example.com","recipients":[{"address":"bob@example.net"},{"address":"carol@example.net"}]}
{"queue_name":"deferred","queue_id":"5DefErReD1","arrival_time":1763900100,"message_size":100,"forced_expire":false,"sender":"x@example.com","recipients":[{"address":"y@example.net","delay_reason":"connection refused"}]}
{"queue_name":"hold","queue_id":"6NoIncid3nt","arrival_time":1763900200,"message_size":10,"forced_expire":false,"sender":"","recipients":[{"address":"z@example.net"}]}
`

func writeIncidents(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "incidents.jsonl")
	lines := []string{
		`{"time":"2026-11-23T10:00:00Z","incident_id":"inc-old","frontend":"milter","queue_id":"4XyZ1AbCdE","sender":"alice@example.com","recipients":["bob@example.net"],"action":"tempfail","verdict_action":"tempfail","policies":[],"duration_ms":1}`,
		`{"time":"2026-11-23T10:01:00Z","incident_id":"inc-42","frontend":"milter","queue_id":"4XyZ1AbCdE","sender":"alice@example.com","recipients":["bob@example.net","carol@example.net"],"action":"quarantine","verdict_action":"quarantine","policies":[{"name":"PCI","severity":"high","mode":"prevent","action":"quarantine","enforced":true}],"quarantine_reason":"held by data protection policy PCI (incident inc-42)","duration_ms":2}`,
		`not json at all`,
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestQuarantineList(t *testing.T) {
	calls := fakePostfix(t, testQueue, false)
	inc := writeIncidents(t)
	var out, errOut bytes.Buffer
	code := quarantineMain([]string{"list", "--incidents", inc, "--postfix-config", "/etc/postfix-out"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("list exit %d, stderr %s", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"4XyZ1AbCdE", "2025-11-23T12:13:20Z", "alice@example.com", "bob@example.net,carol@example.net", "inc-42", "held by data protection policy PCI (incident inc-42)", "6NoIncid3nt", "<>", "2 message(s) held"} {
		if !strings.Contains(got, want) {
			t.Errorf("list output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "5DefErReD1") {
		t.Errorf("list shows a deferred (not held) message:\n%s", got)
	}
	if c := calls(); len(c) != 1 || c[0] != "postqueue -c /etc/postfix-out -j" {
		t.Errorf("calls = %q, want one postqueue -c /etc/postfix-out -j", c)
	}
}

func TestQuarantineListJSONOneID(t *testing.T) {
	fakePostfix(t, testQueue, false)
	inc := writeIncidents(t)
	var out, errOut bytes.Buffer
	if code := quarantineMain([]string{"list", "--json", "--queue-id", "4XyZ1AbCdE", "--incidents", inc}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var e map[string]any
	if err := json.Unmarshal(out.Bytes(), &e); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	if e["queue_id"] != "4XyZ1AbCdE" || e["incident_id"] != "inc-42" || e["reason"] == nil {
		t.Errorf("entry = %v", e)
	}
	if p, _ := e["policies"].([]any); len(p) != 1 || p[0] != "PCI" {
		t.Errorf("policies = %v, want [PCI]", e["policies"])
	}

	out.Reset()
	errOut.Reset()
	if code := quarantineMain([]string{"list", "--queue-id", "5DefErReD1"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "not in the hold queue") {
		t.Errorf("list of a deferred id: exit %d, stderr %q; want 1, not in the hold queue", code, errOut.String())
	}
}

func TestQuarantineReleaseAndDelete(t *testing.T) {
	for _, tc := range []struct {
		verb, wantCall, wantOut string
	}{
		{"release", "postsuper -H 4XyZ1AbCdE", "released 4XyZ1AbCdE"},
		{"delete", "postsuper -d 4XyZ1AbCdE hold", "deleted 4XyZ1AbCdE"},
	} {
		t.Run(tc.verb, func(t *testing.T) {
			calls := fakePostfix(t, testQueue, false)
			var out, errOut bytes.Buffer
			if code := quarantineMain([]string{tc.verb, "--queue-id", "4XyZ1AbCdE"}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if strings.TrimSpace(out.String()) != tc.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tc.wantOut)
			}
			c := calls()
			if len(c) != 2 || c[0] != "postqueue -j" || c[1] != tc.wantCall {
				t.Errorf("calls = %q, want [postqueue -j, %s]", c, tc.wantCall)
			}
		})
	}
}

func TestQuarantineRefusals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		superFail bool
		code      int
		stderr    string
		super     bool // postsuper must have been called
	}{
		{"not held", []string{"release", "--queue-id", "5DefErReD1"}, false, 1, "not in the hold queue", false},
		{"ALL refused", []string{"delete", "--queue-id", "ALL"}, false, 2, "invalid queue id", false},
		{"option-like id", []string{"delete", "--queue-id", "-d"}, false, 2, "invalid queue id", false},
		{"missing id", []string{"release"}, false, 2, "--queue-id is required", false},
		{"unknown verb", []string{"purge"}, false, 2, "unknown action", false},
		{"no verb", nil, false, 2, "usage: maildlp quarantine", false},
		{"postsuper fails", []string{"release", "--queue-id", "4XyZ1AbCdE"}, true, 1, "reserved for the superuser", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := fakePostfix(t, testQueue, tc.superFail)
			var out, errOut bytes.Buffer
			code := quarantineMain(tc.args, &out, &errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("quarantine %q: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.stderr)
			}
			called := false
			for _, c := range calls() {
				called = called || strings.HasPrefix(c, "postsuper")
			}
			if called != tc.super {
				t.Errorf("postsuper called = %v, want %v (calls %q)", called, tc.super, calls())
			}
		})
	}
}

func TestParseQueueRejectsGarbage(t *testing.T) {
	if _, err := parseQueue(strings.NewReader("{\"queue_name\":\"hold\"}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("parseQueue(garbage) err = %v, want an error naming line 2", err)
	}
}

func FuzzParseQueue(f *testing.F) {
	f.Add(testQueue)
	f.Add("{}\n\n{\"queue_name\":\"hold\",\"recipients\":null}")
	f.Fuzz(func(t *testing.T, s string) {
		held, err := parseQueue(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, m := range held {
			if m.QueueName != "hold" {
				t.Fatalf("parseQueue kept a %q message", m.QueueName)
			}
		}
	})
}
