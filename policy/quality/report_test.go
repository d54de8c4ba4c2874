package quality

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The tests of this package record what they measured here; TestMain
// prints the summary after they ran (make quality shows it).
type tally struct {
	mu sync.Mutex

	cleanMessages, cleanFlagged, cleanDetections, cleanEnforced int
	categories                                                  map[string]*catTally

	docsRan                                         bool
	docsSkipped                                     string
	docsFiles, docsFlagged, docsDetections, docsEnf int
	docsBytes                                       int64

	positiveCases, positiveFound int
	features                     map[string]*catTally

	seed     string   // MAILDLP_QUALITY_SEED, if set
	lines    []string // failing cases, printed after the figures
	contexts []string // where the clean false positives are (masked)
}

type catTally struct{ messages, flagged, detections int }

var results = tally{categories: map[string]*catTally{}, features: map[string]*catTally{}}

func (t *tally) cat(m map[string]*catTally, k string) *catTally {
	c := m[k]
	if c == nil {
		c = &catTally{}
		m[k] = c
	}
	return c
}

func (t *tally) note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, fmt.Sprintf(format, args...))
}

func keys(m map[string]*catTally) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// print writes the summary. The unit is a message, as a verdict is:
// recall is the share of positive cases found, precision the positive
// cases found over those plus the clean messages with a false positive;
// then false positives per 1,000 clean messages and counts per category.
func (t *tally) print(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cleanMessages == 0 && t.positiveCases == 0 && !t.docsRan {
		return
	}
	fmt.Fprintln(w, "\n== detection quality (default policy) ==")
	if t.seed != "" {
		fmt.Fprintf(w, "generated corpora from seed %s (MAILDLP_QUALITY_SEED)\n", t.seed)
	}
	cleanTotal := t.cleanMessages + t.docsFiles
	fpMsgs := t.cleanFlagged + t.docsFlagged
	fp := t.cleanDetections + t.docsDetections
	if t.positiveCases > 0 {
		precision := 1.0
		if t.positiveFound+fpMsgs > 0 {
			precision = float64(t.positiveFound) / float64(t.positiveFound+fpMsgs)
		}
		fmt.Fprintf(w, "precision %.4f   recall %.4f (%d/%d positive cases)\n", precision,
			float64(t.positiveFound)/float64(t.positiveCases), t.positiveFound, t.positiveCases)
	}
	if cleanTotal > 0 {
		fmt.Fprintf(w, "false positives: %.1f per 1,000 clean messages (%d of %d messages with a detection at medium or above; %d detections; %d enforced verdicts)\n",
			1000*float64(fpMsgs)/float64(cleanTotal), fpMsgs, cleanTotal, fp, t.cleanEnforced+t.docsEnf)
	}
	if t.cleanMessages > 0 {
		fmt.Fprintf(w, "\ngenerated clean corpus: %d messages, %d flagged (%.1f per 1,000), %d detections, %d enforced\n",
			t.cleanMessages, t.cleanFlagged, 1000*float64(t.cleanFlagged)/float64(t.cleanMessages), t.cleanDetections, t.cleanEnforced)
		for _, k := range keys(t.categories) {
			c := t.categories[k]
			fmt.Fprintf(w, "  %-12s %4d messages  %3d flagged  %3d detections\n", k, c.messages, c.flagged, c.detections)
		}
	}
	switch {
	case t.docsRan:
		fmt.Fprintf(w, "\nDebian documentation: %d files (%.1f MB of text), %d flagged (%.1f per 1,000), %d detections, %d enforced\n",
			t.docsFiles, float64(t.docsBytes)/1e6, t.docsFlagged, 1000*float64(t.docsFlagged)/float64(max(t.docsFiles, 1)), t.docsDetections, t.docsEnf)
	case t.docsSkipped != "":
		fmt.Fprintf(w, "\nDebian documentation: skipped (%s)\n", t.docsSkipped)
	}
	if t.positiveCases > 0 {
		fmt.Fprintf(w, "\npositive corpus: %d cases, %d found\n", t.positiveCases, t.positiveFound)
		for _, k := range keys(t.features) {
			c := t.features[k]
			name := k
			if name == "" {
				name = "(plain)"
			}
			fmt.Fprintf(w, "  %-20s %4d cases  %4d found\n", name, c.messages, c.detections)
		}
	}
	if len(t.contexts) > 0 {
		fmt.Fprintln(w, "\nwhere the generated clean corpus gets detections (plain-text rendering; value <V>, digits #):")
		for _, l := range t.contexts {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if len(t.lines) > 0 {
		fmt.Fprintf(w, "\nfailing cases (FP, MISS) and notes (INFO):\n")
		sort.Strings(t.lines)
		for _, l := range t.lines {
			fmt.Fprintln(w, "  "+l)
		}
	}
	fmt.Fprintln(w)
}

func TestMain(m *testing.M) {
	code := m.Run()
	results.print(os.Stdout)
	os.Exit(code)
}

// oneLine shortens a location for the report.
func oneLine(s []string) string {
	out := strings.Join(s, ", ")
	if len(out) > 160 {
		out = out[:160] + "…"
	}
	return out
}
