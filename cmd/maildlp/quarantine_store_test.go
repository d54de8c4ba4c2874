package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maildlp/maildlp/store"
)

// storeConfigFile writes a config whose store is a SQLite file in a
// temporary directory, this node being "node-b" next to MTA host "mx-b".
func storeConfigFile(t *testing.T) (cfgPath, dbPath string) {
	t.Helper()
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "maildlp.db")
	cfgPath = filepath.Join(dir, "maildlp.toml")
	c := "[store]\npath = \"" + dbPath + "\"\nqueue_dir = \"" + filepath.Join(dir, "q") + "\"\nnode = \"node-b\"\nmta_host = \"mx-b\"\n"
	if err := os.WriteFile(cfgPath, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, dbPath
}

func runQ(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := quarantineMain(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestIssue10QuarantineCLIStore: with a store configured, sync records
// the hold queue, list reads the store, release and delete need a reason
// and record a request in the caller's name for the node next to the MTA,
// and show gives the history. --local keeps acting on Postfix directly.
func TestIssue10QuarantineCLIStore(t *testing.T) {
	calls := fakePostfix(t, testQueue, false)
	cfg, db := storeConfigFile(t)
	t.Setenv("SUDO_USER", "")

	if code, out, errOut := runQ(t, "sync", "--config", cfg); code != 0 || !strings.Contains(out, "mx-b: 2 held, 2 added, 0 linked, 2 unlinked, 0 gone") {
		t.Fatalf("sync: exit %d, %q, %q", code, out, errOut)
	}
	code, out, _ := runQ(t, "list", "--config", cfg)
	if code != 0 || !strings.Contains(out, "4XyZ1AbCdE") || !strings.Contains(out, "6NoIncid3nt") || !strings.Contains(out, "2 message(s)") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	if code, _, errOut := runQ(t, "release", "--config", cfg, "--queue-id", "4XyZ1AbCdE"); code != 2 || !strings.Contains(errOut, "--reason is required") {
		t.Errorf("release without a reason: exit %d, %q", code, errOut)
	}
	code, _, errOut := runQ(t, "release", "--config", cfg, "--queue-id", "4XyZ1AbCdE", "--reason", "false positive: test card", "--wait", "0")
	if code != 0 || !strings.Contains(errOut, "request 1, executed by node node-b") {
		t.Fatalf("release: exit %d, %q", code, errOut)
	}
	for _, c := range calls() {
		if strings.HasPrefix(c, "postsuper") {
			t.Errorf("the CLI ran %s itself; the node's worker executes requests", c)
		}
	}

	st, err := store.Open(context.Background(), store.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.GetRequest(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != "release" || r.Node != "node-b" || r.MTAHost != "mx-b" || r.Reason != "false positive: test card" ||
		r.Actor != loginName() || r.Actor == "" || r.SourceAddr != "cli@node-b" || r.State != store.RequestPending {
		t.Errorf("request = %+v", r)
	}

	code, out, _ = runQ(t, "show", "--config", cfg, "--queue-id", "4XyZ1AbCdE", "--json")
	var v showView
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || len(v.Events) != 2 || v.Events[1].Kind != "release_requested" {
		t.Errorf("show: exit %d, %s", code, out)
	}
	if code, _, errOut := runQ(t, "delete", "--config", cfg, "--queue-id", "NotKnown99", "--reason", "x", "--wait", "0"); code != 1 || !strings.Contains(errOut, "not a held message known to the store") {
		t.Errorf("delete of an unknown id: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runQ(t, "release", "--config", cfg, "--queue-id", "ALL", "--reason", "x"); code != 2 || !strings.Contains(errOut, "invalid queue id") {
		t.Errorf("release ALL: exit %d, %q", code, errOut)
	}

	// --local: straight to postsuper, as without a store.
	if code, out, errOut := runQ(t, "release", "--local", "--config", cfg, "--queue-id", "4XyZ1AbCdE"); code != 0 || strings.TrimSpace(out) != "released 4XyZ1AbCdE" {
		t.Errorf("release --local: exit %d, %q, %q", code, out, errOut)
	}
}

// TestIssue10QuarantineWork: quarantine work runs the node's worker in
// the foreground: it executes a pending request (here against a Postfix
// that ignores postsuper, so the release fails and says why) and stops on
// SIGTERM.
func TestIssue10QuarantineWork(t *testing.T) {
	calls := fakePostfix(t, testQueue, false)
	cfg, db := storeConfigFile(t)
	if code, _, errOut := runQ(t, "release", "--config", cfg, "--queue-id", "4XyZ1AbCdE", "--reason", "r", "--wait", "0"); code != 0 {
		t.Fatalf("release: %d %s", code, errOut)
	}
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		var out bytes.Buffer
		done <- quarantineMain([]string{"work", "--config", cfg}, &out, &errOut)
	}()
	st, err := store.Open(context.Background(), store.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(30 * time.Second)
	var r store.Request
	for {
		r, _ = st.GetRequest(context.Background(), 1)
		if r.State == store.RequestDone || r.State == store.RequestFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request still %s after 30s", r.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.State != store.RequestFailed || !strings.Contains(r.Result, "still in the hold queue") {
		t.Errorf("request = %+v, want failed: still in the hold queue", r)
	}
	ran := strings.Join(calls(), "\n")
	if !strings.Contains(ran, "postsuper -H 4XyZ1AbCdE") {
		t.Errorf("calls = %s, want postsuper -H", ran)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("work exit %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("work did not stop on SIGTERM")
	}
}
