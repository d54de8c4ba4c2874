package quality

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/corpus"
	"github.com/maildlp/maildlp/policy/detect"
)

// cleanContexts says where in the clean corpus's templates the detectors
// fire, so that a false positive reads as a sentence and not only as a
// masked value: it scans the plain-text rendering of each document of a
// flagged category with every built-in identifier and returns, per
// category, detector and confidence, the most frequent surroundings of a
// match at medium or above. The value is shown as <V> and every digit
// around it as #, so no value is printed. (The engine reads the same
// text, but from the message's own encoding and attachment, which can
// differ in layout: this is a guide, the verdicts above are the measure.)
func cleanContexts(tb testing.TB, docs []corpus.CleanDoc, flagged map[string]bool) []string {
	s, err := detect.NewSet(builtinNames(), nil, detect.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	type key struct{ cat, det, conf string }
	ctx := map[key]map[string]int{}
	for _, d := range docs {
		if !flagged[d.Category] {
			continue
		}
		text := d.Doc.Subject + "\n" + d.Doc.Text()
		for _, m := range s.Scan(text, nil) {
			if m.Confidence < detect.Medium || m.TestValue {
				continue
			}
			k := key{d.Category, m.Detector, m.Confidence.String()}
			if ctx[k] == nil {
				ctx[k] = map[string]int{}
			}
			ctx[k][maskContext(text, m.Start, m.End)]++
		}
	}
	keys := make([]key, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.cat+a.det+a.conf < b.cat+b.det+b.conf
	})
	var out []string
	for _, k := range keys {
		type pc struct {
			p string
			n int
		}
		var ps []pc
		total := 0
		for p, n := range ctx[k] {
			ps = append(ps, pc{p, n})
			total += n
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].n > ps[j].n || ps[i].n == ps[j].n && ps[i].p < ps[j].p })
		for i, p := range ps[:min(3, len(ps))] {
			head := fmt.Sprintf("%-11s %-12s %-6s x%-5d", k.cat, k.det, k.conf, total)
			if i > 0 {
				head = strings.Repeat(" ", len(head))
			}
			out = append(out, fmt.Sprintf("%s %q", head, p.p))
		}
	}
	return out
}

// maskContext returns up to 40 bytes before and 16 after text[i:j], the
// match as <V>, digits as # and line breaks as |.
func maskContext(text string, i, j int) string {
	a, b := max(0, i-40), min(len(text), j+16)
	for a > 0 && a < i && text[a]&0xC0 == 0x80 {
		a++
	}
	for b < len(text) && b > j && text[b]&0xC0 == 0x80 {
		b--
	}
	mask := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= '0' && r <= '9':
				return '#'
			case r == '\n' || r == '\r':
				return '|'
			}
			return r
		}, s)
	}
	return mask(text[a:i]) + "<V>" + mask(text[j:b])
}
