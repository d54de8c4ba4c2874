package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
)

// TestIssue9ScanAndIncidentOneSchema: scan --json prints a verdict in the
// incident log's shape, field for field, with the reply as the client
// reads it (rendered, incident id included) and the header changes.
func TestIssue9ScanAndIncidentOneSchema(t *testing.T) {
	pass := &action.Header{Name: "X-Filter-Loop", Value: "Reflected"}
	for _, v := range []action.Verdict{
		{Action: action.Block, IncidentID: "INC-B", Reply: action.Reply{Code: 554, Enhanced: "5.7.0", Text: "No cards\n100% blocked"},
			Policies: []action.PolicyHit{{Name: "PCI", Severity: "high", Mode: "prevent", Action: action.Block}}},
		{Action: action.Modify, IncidentID: "INC-M", SubjectPrefix: "[DLP]",
			AddHeaders: []action.Header{{Name: "X-DLP", Value: "yes"}},
			Policies:   []action.PolicyHit{{Name: "Bank", Severity: "medium", Mode: "prevent", Action: action.Modify}}},
		{Action: action.Pass, IncidentID: "INC-P",
			Policies: []action.PolicyHit{{Name: "Watch", Severity: "low", Mode: "monitor", Action: action.Block}}},
	} {
		scanned, err := json.Marshal(jsonResult(scanResult{file: "m.eml", verdict: v}, pass))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Verdict map[string]any `json:"verdict"`
		}
		if err := json.Unmarshal(scanned, &s); err != nil {
			t.Fatal(err)
		}

		path := filepath.Join(t.TempDir(), "incidents.jsonl")
		j, err := report.NewRecorder(config.Incidents{Path: path, Sync: config.DefaultIncidentSync, SyncInterval: config.Duration(config.DefaultIncidentSyncInterval)}, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := report.Decision{Frontend: "milter", Verdict: v, Applied: v.Action}
		if v.Action < action.TempFail {
			d.PassHeader = pass
		}
		j.Record(d)
		j.Close()
		in := readIncident(t, path)

		if len(s.Verdict) < 4 {
			t.Fatalf("scan verdict %v", s.Verdict)
		}
		for k, want := range s.Verdict {
			if got, ok := in[k]; !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: verdict field %q: incident %v, scan %v", v.Action, k, got, want)
			}
		}
		if v.Action == action.Block {
			r, _ := s.Verdict["reply"].(map[string]any)
			if want := v.Refusal(action.Block, false).Text(); r["text"] != want || r["code"] != 554.0 || r["enhanced"] != "5.7.0" {
				t.Errorf("scan reply %v, want the rendered %q", r, want)
			}
		}
	}
}

func readIncident(t *testing.T, path string) map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatal("no incident written")
	}
	var m map[string]any
	if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
