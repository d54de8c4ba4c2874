package quality

import (
	"fmt"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/corpus"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

func builtinNames() []string {
	var names []string
	for _, info := range detect.Builtins() {
		names = append(names, info.Name)
	}
	return names
}

// TestIssue8CorpusValues proves the generators: every fake value, written
// in its usual form after its cue sentence, is found by its own detector
// alone at the confidence the default policy needs. A failure here is a
// bug of the corpus, not of the engine.
func TestIssue8CorpusValues(t *testing.T) {
	r := corpus.NewRand(1)
	for _, name := range builtinNames() {
		req, ok := corpus.Requirements[name]
		if !ok {
			t.Errorf("%s: no requirement in the positive corpus", name)
			continue
		}
		need, err := detect.ParseConfidence(req.Need)
		if err != nil {
			t.Fatal(err)
		}
		d, err := detect.New(name, detect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 200 {
			v := corpus.Written(name, corpus.Fake(r, name))
			text := fmt.Sprintf(req.Cue, v)
			ok := false
			for _, m := range d.Scan(text, nil) {
				if m.Confidence >= need && !m.TestValue {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: generated %q is not found at %s", name, text, req.Need)
				break
			}
		}
	}
}

// TestIssue8PositiveCorpus: every identifier, in every place the engine
// reads and in the split and decorated forms senders use, is found at the
// confidence the default policy acts on, and the policy enforces.
func TestIssue8PositiveCorpus(t *testing.T) {
	cases := corpus.PositiveSeeded(builtinNames(), seed(t, corpus.PositiveSeed))
	misses := 0
	evaluateAll(t, len(cases), func(i int) []byte { return cases[i].Raw }, func(i int, v action.Verdict) {
		c := cases[i]
		why := judgePositive(c, v)
		results.mu.Lock()
		f := results.cat(results.features, c.Feature)
		f.messages++
		results.positiveCases++
		if why == "" {
			f.detections++
			results.positiveFound++
		}
		results.mu.Unlock()
		if why != "" {
			msg := fmt.Sprintf("MISS %s: %s", c.Name, why)
			results.note("%s", msg)
			misses++
		}
	})
	if misses > 0 {
		t.Errorf("%d of %d positive cases missed (listed in the report below)", misses, len(cases))
	}
}

// judgePositive returns why case c failed, or "".
func judgePositive(c corpus.PositiveCase, v action.Verdict) string {
	need, _ := detect.ParseConfidence(c.Need)
	var got []string
	found := false
	for _, d := range v.Detections {
		got = append(got, fmt.Sprintf("%s %s", d.Type, d.Confidence))
		if d.Type != c.Detector || d.TestValue {
			continue
		}
		conf, _ := detect.ParseConfidence(d.Confidence)
		if conf >= need {
			found = true
		}
	}
	for _, u := range v.Unscannable {
		got = append(got, "unscannable "+u.Location+" ("+u.Reason+")")
	}
	switch {
	case !found:
		return fmt.Sprintf("want %s at %s, got [%s]", c.Detector, c.Need, strings.Join(got, "; "))
	case c.Enforce && !v.Action.Enforces():
		return fmt.Sprintf("found but the verdict is %s", v.Action)
	}
	return ""
}
