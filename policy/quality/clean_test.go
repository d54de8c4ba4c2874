package quality

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/corpus"
	"github.com/maildlp/maildlp/policy/action"
)

// cleanSize is the number of generated clean messages.
const cleanSize = 480

// TestIssue8CleanCorpus: ordinary business and technical mail full of
// lookalike numbers gets no detection at medium confidence or above and
// no enforced verdict from the default policy.
func TestIssue8CleanCorpus(t *testing.T) {
	docs := append(corpus.CleanDocsSeed(cleanSize, seed(t, corpus.CleanSeed)), corpus.BulkDocs()...)
	msgs := make([]corpus.CleanMessage, len(docs))
	for i, d := range docs {
		msgs[i] = corpus.CleanMessage{Name: d.Name, Category: d.Category, Envelope: d.Envelope, Raw: d.Doc.Message(d.Envelope)}
	}
	flaggedCats := map[string]bool{}
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
			flaggedCats[m.Category] = true
			c.flagged++
			results.cleanFlagged++
		}
		if v.Action.Enforces() {
			results.cleanEnforced++
		}
		results.mu.Unlock()
	})
	if fails > 0 {
		results.mu.Lock()
		results.contexts = cleanContexts(t, docs, flaggedCats)
		results.mu.Unlock()
		t.Errorf("%d false positives on %d clean messages (listed in the report below)", fails, len(msgs))
	}
	for _, e := range corpus.Envelopes() {
		if !seen[e] {
			t.Errorf("no clean message in envelope %s", e)
		}
	}
}

// seed returns the corpus seed: def, or MAILDLP_QUALITY_SEED to check a
// change against other values of the same kinds (make quality
// QUALITY_SEED=n).
func seed(t *testing.T, def uint64) uint64 {
	v := os.Getenv("MAILDLP_QUALITY_SEED")
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("MAILDLP_QUALITY_SEED=%q: %v", v, err)
	}
	results.mu.Lock()
	results.seed = v
	results.mu.Unlock()
	return n
}

// judgeClean reports the false positives of one clean message, on one
// line: every detection at medium or above that is not a published test
// value, every unscannable part (which the default config quarantines)
// and an enforced verdict. It returns the number of detections.
func judgeClean(fails *int, name string, v action.Verdict) (n int, flagged bool) {
	var what []string
	for _, d := range v.Detections {
		if d.TestValue {
			continue
		}
		n += d.Count
		what = append(what, fmt.Sprintf("%s %s x%d %v in %s", d.Type, d.Confidence, d.Count, d.Evidence, oneLine(d.Locations)))
	}
	for _, u := range v.Unscannable {
		what = append(what, fmt.Sprintf("unscannable %s (%s)", u.Location, u.Reason))
	}
	if len(what) == 0 && !v.Action.Enforces() {
		return 0, false
	}
	results.note("FP %s: %s%s", name, strings.Join(what, "; "), verdictNote(v))
	*fails++
	return n, true
}

// verdictNote names an enforced verdict and the policies behind it.
func verdictNote(v action.Verdict) string {
	if !v.Action.Enforces() {
		return ""
	}
	var names []string
	for _, p := range v.Policies {
		names = append(names, p.Name)
	}
	return fmt.Sprintf(" => %s by %s", v.Action, strings.Join(names, ", "))
}
