package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// rowMatcher stands in for an edm matcher: every "ROW<n>" in the text is
// a matched row n, keyed by n, with masked evidence.
type rowMatcher struct {
	name  string
	steps int // Step calls before the meter says stop (0: never)
}

func (r *rowMatcher) Name() string { return r.name }

func (r *rowMatcher) Match(text string, part dataset.Part, m dataset.Meter, dst []detect.Match) ([]detect.Match, bool) {
	for i := 0; i < len(text); i++ {
		if !m.Step(1) {
			return dst, false
		}
		if strings.HasPrefix(text[i:], "ROW") && i+3 < len(text) {
			n := text[i+3]
			dst = append(dst, detect.Match{Detector: r.name, Confidence: detect.High, Key: uint64(n),
				Evidence: fmt.Sprintf("customers: 3 columns (ssn, first, last) of 1 row in %s", part.Location),
				Start:    i, End: i + 4})
		}
	}
	return dst, true
}

// stopMeterMatcher stops at once.
type stopMatcher struct{}

func (stopMatcher) Name() string { return "customers" }
func (stopMatcher) Match(text string, _ dataset.Part, m dataset.Meter, dst []detect.Match) ([]detect.Match, bool) {
	return dst, false
}

func datasetPolicy(t *testing.T, rule string) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.edm"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.key"), []byte("x"), 0o600)
	return fmt.Sprintf(`
[[detector]]
name = "customers"
kind = "edm"
index = %q
key_file = %q
min_columns = 3

[[policy]]
name = "customer records"
rule = %s
block = { text = "customer data" }
`, filepath.Join(dir, "c.edm"), filepath.Join(dir, "c.key"), rule)
}

// TestIssue13DatasetDetectorFeedsConditions: matches of a dataset
// detector count like any detector's: distinct rows, min_count, all/none.
func TestIssue13DatasetDetectorFeedsConditions(t *testing.T) {
	for _, c := range []struct {
		rule, text string
		want       action.Action
	}{
		{`{ detector = "customers" }`, "row ROW1 here", action.Block},
		{`{ detector = "customers", min_count = 2 }`, "ROW1 ROW1 ROW1", action.Pass},
		{`{ detector = "customers", min_count = 2 }`, "ROW1 ROW2", action.Block},
		{`{ all = [{ detector = "customers" }, { detector = "credit_card" }] }`, "ROW1", action.Pass},
		{`{ all = [{ detector = "customers" }, { detector = "credit_card" }] }`, "ROW1 credit_card:4111111111111111", action.Block},
		{`{ detector = "customers", min_confidence = "high" }`, "ROW3", action.Block},
		{`{ none = [{ detector = "customers" }] }`, "ROW3", action.Pass},
	} {
		e := engineFor(t, datasetPolicy(t, c.rule), body(c.text))
		e.datasets = []dataset.Matcher{&rowMatcher{name: "customers"}}
		v := e.Evaluate(context.Background(), Message{Envelope: env, Body: strings.NewReader("x")})
		if v.Action != c.want {
			t.Errorf("%s on %q: %v, want %v", c.rule, c.text, v.Action, c.want)
		}
	}
}

// TestIssue13DatasetExplain: scan --explain lists the dataset match with
// its masked evidence (columns and rows, no value).
func TestIssue13DatasetExplain(t *testing.T) {
	e := engineFor(t, datasetPolicy(t, `{ detector = "customers" }`), body("ROW1"))
	e.datasets = []dataset.Matcher{&rowMatcher{name: "customers"}}
	_, ex, ms := e.Explain(context.Background(), Message{Envelope: env, Body: strings.NewReader("x")})
	if len(ms) != 1 || ms[0].Detector != "customers" || !strings.Contains(ms[0].Evidence, "3 columns (ssn, first, last) of 1 row") {
		t.Errorf("match explanations: %+v", ms)
	}
	if len(ex) != 1 || !ex[0].Matched {
		t.Errorf("explanation: %+v", ex)
	}
}

// TestIssue13DatasetDeadline: a dataset matcher stopped by the meter leaves
// its part unscannable (timeout), never passed unread.
func TestIssue13DatasetDeadline(t *testing.T) {
	e := engineFor(t, datasetPolicy(t, `{ detector = "customers" }`), body("ROW1"))
	e.datasets = []dataset.Matcher{stopMatcher{}}
	v := e.Evaluate(context.Background(), Message{Envelope: env, Body: strings.NewReader("x")})
	if v.Action == action.Pass {
		t.Errorf("a stopped dataset scan passed: %+v", v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &ctxMeter{ctx: ctx}
	if m.Step(ctxMeterEvery) {
		t.Error("meter of a cancelled scan goes on")
	}
}

// TestIssue13DatasetOpenError: a type without a registered opener (or an
// index the opener refuses) is an error naming the detector's file:line.
func TestIssue13DatasetOpenError(t *testing.T) {
	doc := strings.Replace(datasetPolicy(t, `{ detector = "customers" }`), `kind = "edm"`, `kind = "idm"`, 1)
	doc = strings.Replace(doc, "min_columns = 3", "min_containment = 0.25", 1)
	cfg, err := config.LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"), []byte(doc), detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	if slicesContains(dataset.Types(), "idm") {
		t.Skip("idm is registered in this build")
	}
	_, err = New(cfg)
	if err == nil || !strings.Contains(err.Error(), `maildlp.toml:2: detector "customers"`) {
		t.Errorf("New = %v, want an error at the detector", err)
	}
	_ = extract.Part{}
}

func slicesContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
