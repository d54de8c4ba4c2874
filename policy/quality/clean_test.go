package quality

import (
	"fmt"
	"testing"

	"github.com/maildlp/maildlp/internal/corpus"
	"github.com/maildlp/maildlp/policy/action"
)

// cleanSize is the number of generated clean messages.
const cleanSize = 352

// TestIssue8CleanCorpus: ordinary business and technical mail full of
// lookalike numbers gets no detection at medium confidence or above and
// no enforced verdict from the default policy.
func TestIssue8CleanCorpus(t *testing.T) {
	msgs := corpus.Clean(cleanSize)
	seen := map[corpus.Envelope]bool{}
	fails := 0
	evaluateAll(t, len(msgs), func(i int) []byte { return msgs[i].Raw }, func(i int, v action.Verdict) {
		m := msgs[i]
		seen[m.Envelope] = true
		n, flagged := judgeClean(&fails, "clean "+m.Name, v)
		results.mu.Lock()
		c := results.cat(results.categories, m.Category)
		c.messages++
		c.detections += n
		results.cleanMessages++
		results.cleanDetections += n
		if flagged {
			c.flagged++
			results.cleanFlagged++
		}
		if v.Action.Enforces() {
			results.cleanEnforced++
		}
		results.mu.Unlock()
	})
	if fails > 0 {
		t.Errorf("%d false positives on %d clean messages (listed in the report below)", fails, len(msgs))
	}
	for _, e := range corpus.Envelopes() {
		if !seen[e] {
			t.Errorf("no clean message in envelope %s", e)
		}
	}
}

// judgeClean reports the false positives of one clean message: every
// detection at medium or above that is not a published test value, every
// enforced verdict and every unscannable part (which the default config
// quarantines). It returns the number of detections.
func judgeClean(fails *int, name string, v action.Verdict) (n int, flagged bool) {
	for _, d := range v.Detections {
		if d.TestValue {
			continue
		}
		n += d.Count
		flagged = true
		msg := fmt.Sprintf("FP %s: %s %s x%d %v in %s", name, d.Type, d.Confidence, d.Count, d.Evidence, oneLine(d.Locations))
		results.note("%s", msg)
		*fails++
	}
	for _, u := range v.Unscannable {
		msg := fmt.Sprintf("FP %s: unscannable %s (%s)", name, u.Location, u.Reason)
		results.note("%s", msg)
		*fails++
	}
	if v.Action.Enforces() {
		var names []string
		for _, p := range v.Policies {
			names = append(names, p.Name)
		}
		msg := fmt.Sprintf("FP %s: enforced %s by %v", name, v.Action, names)
		results.note("%s", msg)
		*fails++
		flagged = true
	}
	return n, flagged
}
