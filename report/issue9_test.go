package report

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/maildlp/maildlp/policy/action"
)

// TestIssue9IncidentErrorOneLine: whatever text the failure cause has (a
// recovered panic's used to carry its whole stack), the incident records
// one line of it.
func TestIssue9IncidentErrorOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents.jsonl")
	j, err := NewRecorder(testConfig(path, "always"), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.Record(Decision{Frontend: "milter", Verdict: action.Verdict{IncidentID: "INC-P"}, Applied: action.TempFail,
		Err: errors.New("milter: engine error: panic: boom\ngoroutine 7 [running]:\nmain.f()")})
	in := readIncidents(t, path)
	if len(in) != 1 || in[0]["error"] != "milter: engine error: panic: boom" {
		t.Errorf("incident error %q, want the first line only", in[0]["error"])
	}
}
