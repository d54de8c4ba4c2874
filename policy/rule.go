package policy

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// compiled is a policy ready to evaluate.
type compiled struct {
	cfg      *config.Policy
	rule     *cond
	action   action.Action // strongest configured response
	monitor  bool          // mode = monitor (trial mode is applied at evaluation)
	envelope bool          // the rule has envelope conditions only
	rcptDep  bool          // the rule or the exceptions depend on recipients
	except   exceptions
	// detectors the rule refers to, for the evidence in notices
	detectors []string
}

type exceptions struct {
	senders, recipients, domains, detectors []string
}

// cond is a compiled rule node.
type cond struct {
	kind           string
	pos            string
	all, any, none []*cond

	detector string
	minConf  detect.Confidence
	minCount int
	maxCount int // 0: unbounded
	tests    bool
	prox     [2]string
	within   int

	fileTypes, filenames []string
	minSize, maxSize     int64 // maxSize < 0: unbounded

	patterns  []string // lowercased address patterns
	domains   []string // lowercased
	direction string

	header   string
	re       *regexp.Regexp
	contains string // lowercased

	reasons *config.Reasons
}

// compilePolicy turns a validated config policy into its evaluable form.
func compilePolicy(p *config.Policy) (*compiled, error) {
	c := &compiled{cfg: p, monitor: p.Mode == config.ModeMonitor}
	var err error
	c.rule, err = compileCond(&p.Rule)
	if err != nil {
		return nil, fmt.Errorf("%s: policy %q: %w", p.Pos, p.Name, err)
	}
	switch {
	case p.Block != nil:
		c.action = action.Block
	case p.TempFail != nil:
		c.action = action.TempFail
	case p.Quarantine != nil:
		c.action = action.Quarantine
	case p.Redirect != nil:
		c.action = action.Redirect
	case p.Modify != nil:
		c.action = action.Modify
	case p.Notify != nil:
		c.action = action.Notify
	default:
		c.action = action.Pass
	}
	c.envelope = c.rule.envelopeOnly()
	c.rcptDep = c.rule.usesRecipients() || len(p.Except.Recipients) > 0 || len(p.Except.RecipientDomains) > 0
	c.except = exceptions{
		senders:    lowerAll(p.Except.Senders),
		recipients: lowerAll(p.Except.Recipients),
		domains:    normDomains(p.Except.RecipientDomains),
		detectors:  p.Except.Detectors,
	}
	c.rule.walk(func(n *cond) {
		switch n.kind {
		case config.KindDetector:
			c.detectors = appendUnique(c.detectors, n.detector)
		case config.KindProximity:
			c.detectors = appendUnique(c.detectors, n.prox[0])
			c.detectors = appendUnique(c.detectors, n.prox[1])
		}
	})
	return c, nil
}

func appendUnique(l []string, s string) []string {
	if slices.Contains(l, s) {
		return l
	}
	return append(l, s)
}

func lowerAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strings.ToLower(s)
	}
	return out
}

func compileCond(c *config.Condition) (*cond, error) {
	n := &cond{kind: c.Kind(), pos: c.Pos}
	var err error
	compileList := func(l []config.Condition) ([]*cond, error) {
		out := make([]*cond, 0, len(l))
		for i := range l {
			x, err := compileCond(&l[i])
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	}
	if n.all, err = compileList(c.All); err != nil {
		return nil, err
	}
	if n.any, err = compileList(c.Any); err != nil {
		return nil, err
	}
	if n.none, err = compileList(c.None); err != nil {
		return nil, err
	}
	if c.MinConfidence != "" {
		if n.minConf, err = detect.ParseConfidence(string(c.MinConfidence)); err != nil {
			return nil, err
		}
	}
	n.detector = c.Detector
	n.minCount, n.maxCount, n.tests = max(c.MinCount, 1), c.MaxCount, c.IncludeTestValues
	if len(c.Proximity) == 2 {
		n.prox = [2]string{c.Proximity[0], c.Proximity[1]}
	}
	n.within = c.Within
	n.fileTypes, n.filenames = lowerAll(c.FileType), lowerAll(c.Filename)
	n.maxSize = -1
	if c.MinAttachmentSize != nil {
		n.minSize = int64(*c.MinAttachmentSize)
	}
	if c.MaxAttachmentSize != nil {
		n.maxSize = int64(*c.MaxAttachmentSize)
	}
	switch n.kind {
	case config.KindSender:
		n.patterns = lowerAll(c.Sender)
	case config.KindRecipients:
		n.patterns = lowerAll(c.Recipients)
	}
	n.domains = normDomains(c.RecipientDomains)
	n.direction = string(c.Direction)
	n.header = c.Header
	if c.Matches != "" {
		if n.re, err = regexp.Compile(c.Matches); err != nil {
			return nil, err
		}
	}
	n.contains = strings.ToLower(c.Contains)
	n.reasons = c.Unscannable
	if n.kind == "" {
		return nil, fmt.Errorf("%s: empty condition", c.Pos)
	}
	return n, nil
}

func (n *cond) walk(f func(*cond)) {
	f(n)
	for _, l := range [][]*cond{n.all, n.any, n.none} {
		for _, c := range l {
			c.walk(f)
		}
	}
}

// envelopeOnly reports whether n can be decided from the envelope alone.
func (n *cond) envelopeOnly() bool {
	ok := true
	n.walk(func(c *cond) {
		switch c.kind {
		case config.KindGroup, config.KindSender, config.KindRecipients, config.KindDomains, config.KindDirection:
		default:
			ok = false
		}
	})
	return ok
}

func (n *cond) usesRecipients() bool {
	uses := false
	n.walk(func(c *cond) {
		switch c.kind {
		case config.KindRecipients, config.KindDomains, config.KindDirection:
			uses = true
		}
	})
	return uses
}

// matchAddress matches a lowercased address against lowercased patterns.
func matchAddress(patterns []string, addr string) bool {
	addr = strings.ToLower(addr)
	for _, p := range patterns {
		if ok, _ := path.Match(p, addr); ok {
			return true
		}
	}
	return false
}

// inDomains reports whether addr's domain is one of domains or below one
// (domains normalised, see normDomain).
func inDomains(domains []string, addr string) bool {
	return inDomain(domains, parseEnvAddr(addr).domain)
}

// eval evaluates n against the facts; tr, when not nil, records why.
func (n *cond) eval(f *facts, tr *tracer) bool {
	switch n.kind {
	case config.KindGroup:
		return n.evalGroup(f, tr)
	case config.KindDetector:
		cnt := f.count(n.detector, n.minConf, n.tests)
		ok := cnt >= n.minCount && (n.maxCount == 0 || cnt <= n.maxCount)
		if tr != nil {
			tr.leaf(ok, "detector %s (confidence >= %s%s): %d distinct %s (want %s)",
				n.detector, n.minConf, testNote(n.tests), cnt, plural(cnt, "value", "values"), countRange(n.minCount, n.maxCount))
		}
		return ok
	case config.KindProximity:
		cnt := f.proximity(n.prox[0], n.prox[1], n.within, n.minConf, n.tests)
		ok := cnt >= n.minCount && (n.maxCount == 0 || cnt <= n.maxCount)
		if tr != nil {
			tr.leaf(ok, "proximity %s near %s within %d characters (confidence >= %s): %d distinct %s (want %s)",
				n.prox[0], n.prox[1], n.within, n.minConf, cnt, plural(cnt, "value", "values"), countRange(n.minCount, n.maxCount))
		}
		return ok
	case config.KindAttachment:
		loc, ok := f.attachment(n)
		if ok {
			if tr != nil {
				tr.leaf(true, "attachment %s: %s", n.describeAttachment(), loc)
			}
		} else {
			if tr != nil {
				tr.leaf(false, "attachment %s: none", n.describeAttachment())
			}
		}
		return ok
	case config.KindSender:
		ok := matchAddress(n.patterns, f.env.MailFrom)
		if tr != nil {
			tr.leaf(ok, "sender %s in %s", displayAddr(f.env.MailFrom), strings.Join(n.patterns, ", "))
		}
		return ok
	case config.KindRecipients:
		for _, r := range f.env.Rcpts {
			if matchAddress(n.patterns, r) {
				if tr != nil {
					tr.leaf(true, "recipient %s in %s", r, strings.Join(n.patterns, ", "))
				}
				return true
			}
		}
		if tr != nil {
			tr.leaf(false, "no recipient in %s", strings.Join(n.patterns, ", "))
		}
		return false
	case config.KindDomains:
		for _, r := range f.env.Rcpts {
			if inDomains(n.domains, r) {
				if tr != nil {
					tr.leaf(true, "recipient %s in domains %s", r, strings.Join(n.domains, ", "))
				}
				return true
			}
		}
		if tr != nil {
			tr.leaf(false, "no recipient in domains %s", strings.Join(n.domains, ", "))
		}
		return false
	case config.KindDirection:
		ok := f.direction == n.direction
		if tr != nil {
			tr.leaf(ok, "direction is %s (want %s)", f.direction, n.direction)
		}
		return ok
	case config.KindHeader:
		ok := f.hasHeader(n)
		switch {
		case n.re != nil:
			if tr != nil {
				tr.leaf(ok, "header %s matching /%s/", n.header, n.re)
			}
		case n.contains != "":
			if tr != nil {
				tr.leaf(ok, "header %s containing %q", n.header, n.contains)
			}
		default:
			if tr != nil {
				tr.leaf(ok, "header %s present", n.header)
			}
		}
		return ok
	case config.KindUnscannable:
		for _, u := range f.unscannable {
			if n.reasons.Match(string(u.Reason)) {
				if tr != nil {
					tr.leaf(true, "unscannable content: %s (%s)", u.Location, u.Reason)
				}
				return true
			}
		}
		if tr != nil {
			tr.leaf(false, "no unscannable content for %s", reasonList(n.reasons))
		}
		return false
	}
	if tr != nil {
		tr.leaf(false, "unknown condition %s", n.kind)
	}
	return false
}

func (n *cond) evalGroup(f *facts, tr *tracer) bool {
	ok := true
	if len(n.all) > 0 {
		tr.open("all of:")
		all := true
		for _, c := range n.all {
			if !c.eval(f, tr) {
				all = false
				if tr == nil {
					break
				}
			}
		}
		tr.close(all)
		ok = ok && all
	}
	if len(n.any) > 0 && (ok || tr != nil) {
		tr.open("any of:")
		anyOK := false
		for _, c := range n.any {
			if c.eval(f, tr) {
				anyOK = true
				if tr == nil {
					break
				}
			}
		}
		tr.close(anyOK)
		ok = ok && anyOK
	}
	if len(n.none) > 0 && (ok || tr != nil) {
		tr.open("none of:")
		noneOK := true
		for _, c := range n.none {
			if c.eval(f, tr) {
				noneOK = false
				if tr == nil {
					break
				}
			}
		}
		tr.close(noneOK)
		ok = ok && noneOK
	}
	return ok
}

func (n *cond) describeAttachment() string {
	var d []string
	if len(n.fileTypes) > 0 {
		d = append(d, "type "+strings.Join(n.fileTypes, "|"))
	}
	if len(n.filenames) > 0 {
		d = append(d, "name "+strings.Join(n.filenames, "|"))
	}
	if n.minSize > 0 {
		d = append(d, fmt.Sprintf("size >= %d", n.minSize))
	}
	if n.maxSize >= 0 {
		d = append(d, fmt.Sprintf("size <= %d", n.maxSize))
	}
	return strings.Join(d, ", ")
}

func testNote(tests bool) string {
	if tests {
		return ", test values included"
	}
	return ""
}

func countRange(lo, hi int) string {
	if hi == 0 {
		return fmt.Sprintf(">= %d", lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func displayAddr(a string) string {
	if a == "" {
		return "<>"
	}
	return a
}

func reasonList(r *config.Reasons) string {
	if r.Any {
		return "any reason"
	}
	return strings.Join(r.List, ", ")
}
