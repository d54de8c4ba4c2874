package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/store"
)

func incidentsCmd(args []string, stdout, stderr *bytes.Buffer) int {
	return incidentsMain(args, stdout, stderr)
}

// seedStore makes a SQLite store with n incidents, one second apart.
func seedStore(t *testing.T, n int) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "maildlp.db")
	var out, errb bytes.Buffer
	if c := dbMain([]string{"migrate", "--db", db}, &out, &errb); c != 0 || !strings.Contains(out.String(), "schema version 1") {
		t.Fatalf("db migrate = %d, %q %q", c, out.String(), errb.String())
	}
	st, err := store.Open(context.Background(), store.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var ins []store.Incident
	for i := range n {
		ins = append(ins, store.Incident{
			ID: fmt.Sprintf("INC%04d", i), Time: t0.Add(time.Duration(i) * time.Second), Node: "n1", Frontend: "milter",
			Sender:     []string{"alice@example.com", "=cmd|'/c calc'!A1@evil.example"}[i%2],
			Recipients: []store.Recipient{{Address: fmt.Sprintf("r%d@partner.example", i), Action: "quarantine"}},
			Action:     "quarantine", VerdictAction: "quarantine",
			Policies:   []store.Policy{{Name: []string{"PCI cards", "Secrets"}[i%2], Severity: []string{"high", "critical"}[i%2], Mode: "prevent", Action: "quarantine", Enforced: true}},
			Detections: []store.Detection{{Type: "credit_card", Count: 2, Evidence: []string{"****1111", "****4242"}, Locations: []string{"body/1"}}},
		})
	}
	if _, err := st.Insert(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestIssue10IncidentsListPaging(t *testing.T) {
	db := seedStore(t, 25)
	var ids []string
	after := ""
	for pages := 0; pages < 10; pages++ {
		args := []string{"list", "--db", db, "--limit", "10", "--policy", "PCI cards", "--json"}
		if after != "" {
			args = append(args, "--after", after)
		}
		code, out, errs := run(t, incidentsCmd, args...)
		if code != 0 {
			t.Fatalf("list = %d: %s", code, errs)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var in store.Incident
			if err := json.Unmarshal([]byte(line), &in); err != nil {
				t.Fatalf("list --json line %q: %v", line, err)
			}
			ids = append(ids, in.ID)
		}
		_, next, ok := strings.Cut(errs, "next page: --after ")
		if !ok {
			break
		}
		after = strings.TrimSpace(next)
	}
	if len(ids) != 13 || ids[0] != "INC0024" || ids[12] != "INC0000" {
		t.Errorf("paged ids = %v, want the 13 PCI incidents newest first", ids)
	}
	code, out, _ := run(t, incidentsCmd, "list", "--db", db, "--severity", "critical", "--since", "2026-12-01T09:00:20Z")
	if code != 0 || strings.Count(out, "INC00") != 2 || !strings.Contains(out, "INC0023") || !strings.Contains(out, "INC0021") {
		t.Errorf("table list = %d:\n%s", code, out)
	}
	if code, _, errs := run(t, incidentsCmd, "list", "--db", db, "--status", "done"); code != 2 || !strings.Contains(errs, "unknown status") {
		t.Errorf("bad status: %d %s", code, errs)
	}
}

func TestIssue10IncidentsReview(t *testing.T) {
	db := seedStore(t, 3)
	steps := [][]string{
		{"set-status", "INC0001", "in_review", "--db", db, "--actor", "alice", "--reason", "looking"},
		{"assign", "INC0001", "bob", "--db", db, "--actor", "alice"},
		{"note", "INC0001", "sender confirmed it was a test", "--db", db, "--actor", "bob"},
		{"set-status", "INC0001", "false_positive", "--db", db, "--actor", "bob", "--reason", "test data"},
	}
	for _, s := range steps {
		if code, out, errs := run(t, incidentsCmd, s...); code != 0 || !strings.Contains(out, "done") {
			t.Fatalf("%v = %d %q %q", s, code, out, errs)
		}
	}
	code, out, _ := run(t, incidentsCmd, "show", "INC0001", "--db", db)
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"status false_positive", "assignee bob", "****1111", "bob@local note sender confirmed", "in_review -> false_positive test data"} {
		if code != 0 || !strings.Contains(flat, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := run(t, incidentsCmd, "set-status", "INC9999", "confirmed", "--db", db); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("unknown incident: %d %s", code, errs)
	}
	code, out, _ = run(t, incidentsCmd, "list", "--db", db, "--status", "false_positive", "--assignee", "bob")
	if code != 0 || !strings.Contains(out, "INC0001") || strings.Contains(out, "INC0002") {
		t.Errorf("list by status and assignee:\n%s", out)
	}
}

func TestIssue10IncidentsExport(t *testing.T) {
	db := seedStore(t, 4)
	code, out, errs := run(t, incidentsCmd, "export", "--db", db, "--format", "jsonl")
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, `"evidence":["****1111","****4242"]`) {
		t.Errorf("jsonl = %d %s\n%s", code, errs, out)
	}
	code, out, _ = run(t, incidentsCmd, "export", "--db", db, "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(recs) != 5 || recs[0][0] != "id" {
		t.Fatalf("csv = %d %v\n%s", code, err, out)
	}
	for _, r := range recs[1:] {
		if strings.HasPrefix(r[9], "=") {
			t.Errorf("csv sender %q would be read as a formula", r[9])
		}
	}
	code, out, _ = run(t, incidentsCmd, "export", "--db", db, "--format", "cef", "--policy", "Secrets")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("cef = %d\n%s", code, out)
	}
	l := lines[0]
	if !strings.HasPrefix(l, "CEF:0|maildlp|maildlp|") || !strings.Contains(l, "|10|") ||
		!strings.Contains(l, ` suser=\=cmd|'/c calc'!A1@evil.example `) ||
		!strings.Contains(l, "externalId=INC0003") || !strings.Contains(l, "cs1=Secrets") {
		t.Errorf("cef line = %s", l)
	}
	if code, _, _ := run(t, incidentsCmd, "export", "--db", db, "--format", "xml"); code != 2 {
		t.Errorf("unknown format accepted")
	}
}
