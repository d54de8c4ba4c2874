package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"runtime/debug"
	"strings"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// UnscannablePolicy is the name under which the main config's unscannable
// outcome appears in a verdict's policies.
const UnscannablePolicy = "unscannable content"

// maxNoticeEvidence bounds the evidence lines in one notice.
const maxNoticeEvidence = 20

// Engine evaluates messages against compiled policies. It is safe for
// concurrent use and never changes after New: a reload builds a new one.
type Engine struct {
	cfg      *config.Config
	policies []*compiled
	limits   extract.Limits
	internal []string
	outcome  action.Action // for unscannable content no policy covers
	exempt   []string      // MIME type globs exempt from the outcome when unsupported
	notify   senderNotices // when notify.sender reaches the envelope sender

	scan func(text string, dst []detect.Match) []detect.Match
	// scanUntil, when set, replaces scan and gives up at the deadline.
	scanUntil func(text string, dst []detect.Match, stop func() bool) ([]detect.Match, bool)
	extract   func(ctx context.Context, r io.Reader, lim extract.Limits) (*extract.Result, error)
	// datasets are the edm and idm detectors, run on every part after
	// the detector set.
	datasets []dataset.Matcher
}

// Config returns the configuration the engine was built from.
func (e *Engine) Config() *config.Config { return e.cfg }

// Limits returns the extraction limits of the engine.
func (e *Engine) Limits() extract.Limits { return e.limits }

// compile builds an engine around a scanner and an extractor.
func compile(cfg *config.Config,
	scan func(string, []detect.Match) []detect.Match,
	ext func(context.Context, io.Reader, extract.Limits) (*extract.Result, error),
) (*Engine, error) {
	if cfg == nil {
		return nil, errors.New("policy: nil config")
	}
	e := &Engine{cfg: cfg, scan: scan, extract: ext, internal: normDomains(cfg.InternalDomains), exempt: lowerAll(cfg.UnscannableExemptTypes)}
	e.notify = newSenderNotices(cfg.Notify)
	// A config from Load has its defaults; one built in code gets the
	// same ones, from the config package's table.
	l := cfg.Limits.WithDefaults()
	e.limits = extract.Limits{
		MaxMessageBytes:      int64(l.MaxMessageBytes),
		MaxParts:             l.MaxParts,
		MaxDepth:             l.MaxDepth,
		MaxArchiveMembers:    l.MaxArchiveMembers,
		MaxDecompressedBytes: int64(l.MaxDecompressedBytes),
		MaxExpansionRatio:    l.MaxExpansionRatio,
		MaxTextBytes:         int64(l.MaxTextBytes),
		MaxScanMemory:        int64(l.MaxScanMemory),
		ScanTimeout:          l.ScanTimeout.D(),
	}
	switch cfg.Unscannable {
	case "", config.UnscannableQuarantine:
		e.outcome = action.Quarantine
	default:
		a, err := action.ParseAction(string(cfg.Unscannable))
		if err != nil {
			return nil, fmt.Errorf("policy: unscannable outcome: %w", err)
		}
		e.outcome = a
	}
	var errs []error
	for i := range cfg.Policies {
		p := &cfg.Policies[i]
		if !p.IsEnabled() {
			continue
		}
		c, err := compilePolicy(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.policies = append(e.policies, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return e, nil
}

// Evaluate scans one message and returns the verdict. It never panics: a
// panic in extraction, detection or evaluation becomes Verdict.Err (the
// action stays Pass and the front end applies its on_error outcome). An
// I/O error reading the message or a cancelled ctx is also Verdict.Err.
func (e *Engine) Evaluate(ctx context.Context, m Message) (v action.Verdict) {
	v, _ = e.evaluate(ctx, m, false, nil)
	return v
}

// Explain evaluates m like Evaluate and also says, for each policy, why it
// matched or not, and for each detection how it got its confidence. It is
// for maildlp scan --explain and tests; the explanation names detectors,
// counts, keywords, header names and locations, never a matched value.
func (e *Engine) Explain(ctx context.Context, m Message) (action.Verdict, []Explanation, []MatchExplanation) {
	var ms []MatchExplanation
	v, ex := e.evaluate(ctx, m, true, &ms)
	return v, ex, ms
}

// MatchExplanation says how one detection got its confidence.
type MatchExplanation struct {
	Detector   string
	Location   string
	Evidence   string // masked
	Confidence string
	Why        string // base confidence, keyword and distance, demotion
}

// maxMatchExplanations bounds the detections Explain describes.
const maxMatchExplanations = 500

// Explanation says why one policy matched or not.
type Explanation struct {
	Policy  string
	Matched bool
	// Excepted names the exception that applied, if any.
	Excepted string
	// Lines is the evaluation trace of the rule, indented by depth.
	Lines []string
}

func (e *Engine) evaluate(ctx context.Context, m Message, explain bool, why *[]MatchExplanation) (v action.Verdict, ex []Explanation) {
	id := newIncidentID()
	defer func() {
		if r := recover(); r != nil {
			v = action.Verdict{Action: action.Pass, IncidentID: id,
				Err: &PanicError{Value: r, Stack: debug.Stack()}}
			ex = nil
		}
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	body := m.Body
	if body == nil {
		body = strings.NewReader("")
	}
	// scan_timeout counts the scan, not the transfer: a front end streams
	// the message into Body while the client sends it, so the deadline
	// starts when the last read of Body returned.
	tr := &timedReader{r: body}
	res, err := e.extract(ctx, tr, e.limits)
	if err != nil {
		return action.Verdict{Action: action.Pass, IncidentID: id, Err: fmt.Errorf("policy: extract: %w", err)}, nil
	}
	read := tr.last
	if read.IsZero() {
		read = time.Now()
	}
	ctx, cancel := context.WithDeadline(ctx, read.Add(e.limits.ScanTimeout))
	defer cancel()
	env := m.Envelope
	if len(env.Rcpts) == 0 {
		env = envelopeFromHeader(env, res.Header)
	}
	f := newFacts(env, res, e.internal)
	var buf []detect.Match
	for i := range f.parts {
		var whole bool
		buf, whole = e.detect(ctx, f.parts[i].Text, buf[:0])
		if whole {
			buf, whole = e.matchDatasets(ctx, &f.parts[i], buf)
		}
		if whole {
			f.add(i, buf)
			continue
		}
		// The deadline passed during detection: what is left is
		// unscannable, never silently passed; what was found counts.
		f.add(i, buf)
		for j := i; j < len(f.parts); j++ {
			f.unscannable = append(f.unscannable, extract.Unscannable{Location: f.parts[j].Location, Reason: extract.Timeout, Detail: "scan deadline during detection"})
		}
		break
	}
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		// The front end gave up on this scan: it has no use for a verdict.
		return action.Verdict{Action: action.Pass, IncidentID: id, Err: fmt.Errorf("policy: detect: %w", err)}, nil
	}
	if why != nil {
		for k := range f.hits {
			if k == maxMatchExplanations {
				break
			}
			h := &f.hits[k]
			*why = append(*why, MatchExplanation{Detector: h.Detector, Location: f.parts[h.part].Location,
				Evidence: h.Evidence, Confidence: h.Confidence.String(), Why: h.Why.String()})
		}
	}
	v, ex = e.decide(f, id, explain)
	v.Message = action.MessageFacts{MessageID: extract.RedactName(headerValue(res.Header, "Message-Id")), Subject: f.maskedSubject(), Size: tr.n}
	return v, ex
}

// Detection looks at the deadline between windows of detectChunk bytes of
// text, so that one large part (up to max_text_bytes) cannot hold a
// cancelled or late scan for long: the slowest detector input runs at
// about 12 MB/s, a window at most about 100 ms. Each window is scanned
// with detectOverlap bytes of context on both sides and keeps the matches
// that start inside it, so that a value or a supporting keyword across a
// window edge is found once, as in one pass: the overlap covers the
// longest keyword reach (keyword_window of at most 10000 characters of up
// to 4 bytes) and any value the built-in detectors find.
const (
	detectChunk   = 1 << 20
	detectOverlap = 64 << 10
)

// detect scans text into dst; whole is false when ctx ended before all of
// text was scanned (dst then holds the matches of the part scanned).
func (e *Engine) detect(ctx context.Context, text string, dst []detect.Match) (_ []detect.Match, whole bool) {
	if ctx.Err() != nil {
		return dst, false
	}
	if e.scanUntil != nil {
		// The detector set looks at ctx every 64 KiB itself.
		return e.scanUntil(text, dst, func() bool { return ctx.Err() != nil })
	}
	if len(text) <= detectChunk+detectOverlap {
		return e.scan(text, dst), true
	}
	for start := 0; start < len(text); start += detectChunk {
		if start > 0 && ctx.Err() != nil {
			return dst, false
		}
		end := min(len(text), start+detectChunk)
		lo, hi := max(0, start-detectOverlap), min(len(text), end+detectOverlap)
		n0 := len(dst)
		dst = e.scan(text[lo:hi], dst)
		k := n0
		for _, m := range dst[n0:] {
			m.Start += lo
			m.End += lo
			if m.Start >= start && m.Start < end {
				dst[k] = m
				k++
			}
		}
		dst = dst[:k]
	}
	return dst, true
}

// timedReader notes when its last Read returned.
type timedReader struct {
	r    io.Reader
	last time.Time
	n    int64 // bytes read
}

func (t *timedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.last = time.Now()
	t.n += int64(n)
	return n, err
}

// Len passes on the size hint of a reader that has one (0 if not).
func (t *timedReader) Len() int {
	if l, ok := t.r.(interface{ Len() int }); ok {
		return l.Len()
	}
	return 0
}

// envelopeFromHeader fills sender and recipients from From, To and Cc when
// the envelope has no recipients (maildlp scan of a file).
func envelopeFromHeader(env Envelope, header []extract.HeaderField) Envelope {
	for _, h := range header {
		switch strings.ToLower(h.Name) {
		case "from":
			if env.MailFrom == "" {
				if a, err := mail.ParseAddress(h.Value); err == nil {
					env.MailFrom = a.Address
				}
			}
		case "to", "cc", "bcc":
			if l, err := mail.ParseAddressList(h.Value); err == nil {
				for _, a := range l {
					env.Rcpts = append(env.Rcpts, a.Address)
				}
			}
		}
	}
	return env
}

// excepted returns the exception that exempts the message from c, if any.
func (c *compiled) excepted(f *facts) string {
	if len(c.except.senders) > 0 && matchAddress(c.except.senders, f.env.MailFrom) {
		return "sender " + displayAddr(f.env.MailFrom) + " is excepted"
	}
	if n := len(f.env.Rcpts); n > 0 && (len(c.except.recipients) > 0 || len(c.except.domains) > 0) {
		all := true
		for _, r := range f.env.Rcpts {
			// A routed recipient (user%other@partner) may be delivered
			// elsewhere than the excepted address or domain it names.
			if parseEnvAddr(r).routed || !matchAddress(c.except.recipients, r) && !inDomains(c.except.domains, r) {
				all = false
				break
			}
		}
		if all {
			return "every recipient is excepted"
		}
	}
	for _, d := range c.except.detectors {
		if len(f.byDetector[d]) > 0 {
			return "detector " + d + " matched"
		}
	}
	return ""
}

// decide evaluates every policy once and merges the result into one verdict.
func (e *Engine) decide(f *facts, id string, explain bool) (action.Verdict, []Explanation) {
	v := action.Verdict{Action: action.Pass, IncidentID: id}
	v.Detections = f.detections()
	for _, u := range f.unscannable {
		v.Unscannable = append(v.Unscannable, action.Unscannable{Location: u.Location, Reason: string(u.Reason)})
	}
	var exps []Explanation
	var enforced []*compiled
	handled := false // a policy's unscannable condition covers the unscannable content
	for _, c := range e.policies {
		var tr *tracer
		if explain {
			tr = &tracer{}
		}
		why := c.excepted(f)
		matched := c.rule.eval(f, tr)
		if len(f.unscannable) > 0 && !handled {
			c.rule.walk(func(n *cond) {
				if n.kind == config.KindUnscannable && n.eval(f, nil) {
					handled = true
				}
			})
		}
		if explain {
			x := Explanation{Policy: c.cfg.Name, Matched: matched && why == "", Lines: tr.lines}
			if matched {
				x.Excepted = why
			}
			exps = append(exps, x)
		}
		if !matched || why != "" {
			continue
		}
		hit := action.PolicyHit{Name: c.cfg.Name, Severity: string(c.cfg.Severity), Mode: "prevent", Action: c.action}
		if c.monitor || e.cfg.TrialMode {
			hit.Mode = "monitor"
		} else {
			enforced = append(enforced, c)
		}
		v.Policies = append(v.Policies, hit)
	}
	unscannableHit := !handled && e.outcome != action.Pass && e.countsAsUnscannable(f)
	if unscannableHit {
		hit := action.PolicyHit{Name: UnscannablePolicy, Severity: "medium", Mode: "prevent", Action: e.outcome}
		if e.cfg.TrialMode {
			hit.Mode = "monitor"
		}
		v.Policies = append(v.Policies, hit)
		if explain {
			exps = append(exps, Explanation{Policy: UnscannablePolicy, Matched: true,
				Lines: []string{fmt.Sprintf("+ %d unscannable item(s) not covered by any policy: main config unscannable = %q", len(f.unscannable), e.cfg.Unscannable)}})
		}
	}
	e.merge(&v, f, enforced, unscannableHit && !e.cfg.TrialMode)
	return v, exps
}

// countsAsUnscannable reports whether f has unscannable content that the
// main config's outcome applies to: anything but unsupported content of
// an exempt type (pictures, sound: no text to read).
func (e *Engine) countsAsUnscannable(f *facts) bool {
	for _, u := range f.unscannable {
		if u.Reason == extract.Unsupported && u.MIMEType != "" && globAny(e.exempt, strings.ToLower(u.MIMEType)) {
			continue
		}
		return true
	}
	return false
}

// merge applies the enforced policies' responses to v by precedence.
func (e *Engine) merge(v *action.Verdict, f *facts, enforced []*compiled, unscannable bool) {
	for _, c := range enforced {
		v.Action = max(v.Action, c.action)
	}
	if unscannable {
		v.Action = max(v.Action, e.outcome)
	}
	if v.Action == action.Pass {
		return
	}
	subject := f.maskedSubject()
	for _, c := range enforced {
		p := c.cfg
		vars := strings.NewReplacer("{policy}", p.Name, "{incident_id}", v.IncidentID)
		switch {
		case v.Action == action.Block && c.action == action.Block && v.Reply.Code == 0:
			v.Reply = action.Reply{Code: p.Block.Code, Enhanced: p.Block.Enhanced, Text: vars.Replace(p.Block.Text)}
		case v.Action == action.TempFail && c.action == action.TempFail && v.Reply.Code == 0:
			v.Reply = action.Reply{Code: p.TempFail.Code, Enhanced: p.TempFail.Enhanced, Text: vars.Replace(p.TempFail.Text)}
		}
		if v.Action == action.Quarantine && p.Quarantine != nil && v.QuarantineReason == "" {
			v.QuarantineReason = vars.Replace(p.Quarantine.Reason)
		}
		if v.Action == action.Redirect && p.Redirect != nil {
			for _, a := range p.Redirect.To {
				v.RedirectTo = appendUnique(v.RedirectTo, a)
			}
		}
		if p.Modify != nil && v.Action >= action.Modify && v.Action <= action.Quarantine {
			m := p.Modify
			if m.SubjectPrefix != "" && !strings.Contains(v.SubjectPrefix, m.SubjectPrefix) {
				v.SubjectPrefix += m.SubjectPrefix
			}
			if m.SubjectReplace != "" && v.SubjectReplace == "" {
				v.SubjectReplace = strings.NewReplacer("{policy}", p.Name, "{incident_id}", v.IncidentID, "{subject}", subject).Replace(m.SubjectReplace)
			}
			for _, h := range m.Headers {
				if !containsHeader(v.AddHeaders, h.Name, h.Value) {
					v.AddHeaders = append(v.AddHeaders, action.Header{Name: h.Name, Value: h.Value})
				}
			}
		}
		if p.Notify != nil {
			v.Notices = append(v.Notices, e.notice(c, f, v, subject)...)
		}
	}
	if unscannable {
		name := UnscannablePolicy
		switch {
		case v.Action == action.Block && v.Reply.Code == 0:
			v.Reply = action.Reply{Code: config.DefaultBlockCode, Enhanced: config.DefaultBlockEnhanced,
				Text: "message refused: content that cannot be scanned (incident " + v.IncidentID + ")"}
		case v.Action == action.TempFail && v.Reply.Code == 0:
			v.Reply = action.Reply{Code: config.DefaultTempCode, Enhanced: config.DefaultTempEnhanced,
				Text: "message deferred: content that cannot be scanned (incident " + v.IncidentID + ")"}
		case v.Action == action.Quarantine && v.QuarantineReason == "":
			v.QuarantineReason = "held: " + name + " (incident " + v.IncidentID + ")"
		}
	}
	if v.Action == action.Block || v.Action == action.TempFail {
		// nothing is delivered: no changes to carry
		v.SubjectPrefix, v.SubjectReplace, v.AddHeaders, v.RedirectTo = "", "", nil, nil
	}
}

func containsHeader(l []action.Header, name, value string) bool {
	for _, h := range l {
		if strings.EqualFold(h.Name, name) && h.Value == value {
			return true
		}
	}
	return false
}

// notice renders the notify response of c: one notice to the policy's
// addresses and the sender when the sender is believed (see
// senderNotices), and, when notify_sender = "always" lets an unverified
// sender be notified, a separate notice to the sender without the
// message's subject, which that sender may have written to have the
// organisation's relay carry it to a forged address.
func (e *Engine) notice(c *compiled, f *facts, v *action.Verdict, subject string) []action.Notice {
	p := c.cfg
	var to []string
	toSender := p.Notify.Sender && f.env.MailFrom != ""
	verified := toSender && e.notify.verified(f.env, e.internal)
	if toSender && verified {
		to = append(to, f.env.MailFrom)
	}
	for _, a := range p.Notify.To {
		to = appendUnique(to, a)
	}
	var out []action.Notice
	if len(to) > 0 {
		out = append(out, e.renderNotice(c, f, v, to, subject))
	}
	if toSender && !verified && e.notify.mode == notifyAlways && !containsString(to, f.env.MailFrom) {
		out = append(out, e.renderNotice(c, f, v, []string{f.env.MailFrom}, "(subject withheld: sender not verified)"))
	}
	return out
}

func (e *Engine) renderNotice(c *compiled, f *facts, v *action.Verdict, to []string, subject string) action.Notice {
	p := c.cfg
	ev := f.evidence(c.detectors, maxNoticeEvidence)
	for _, u := range f.unscannable {
		if len(ev) < maxNoticeEvidence {
			ev = append(ev, "unscannable ("+string(u.Reason)+") "+u.Location)
		}
	}
	evidence := "  (none)"
	if len(ev) > 0 {
		evidence = "  " + strings.Join(ev, "\n  ")
	}
	r := strings.NewReplacer(
		"{policy}", p.Name,
		"{description}", p.Description,
		"{severity}", string(p.Severity),
		"{action}", v.Action.String(),
		"{incident_id}", v.IncidentID,
		"{sender}", displayAddr(f.env.MailFrom),
		"{recipients}", strings.Join(f.env.Rcpts, ", "),
		"{subject}", subject,
		"{evidence}", evidence,
	)
	return action.Notice{To: to, Subject: oneLine(r.Replace(p.Notify.Subject)), Body: r.Replace(p.Notify.Body)}
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// tracer records an explanation; a nil tracer records nothing.
type tracer struct {
	lines []string
	depth int
	stack []int // index of each open group line
}

func (t *tracer) leaf(ok bool, format string, args ...any) {
	if t == nil {
		return
	}
	t.lines = append(t.lines, strings.Repeat("  ", t.depth)+mark(ok)+" "+fmt.Sprintf(format, args...))
}

func (t *tracer) open(label string) {
	if t == nil {
		return
	}
	t.stack = append(t.stack, len(t.lines))
	t.lines = append(t.lines, strings.Repeat("  ", t.depth)+"? "+label)
	t.depth++
}

func (t *tracer) close(ok bool) {
	if t == nil {
		return
	}
	t.depth--
	i := t.stack[len(t.stack)-1]
	t.stack = t.stack[:len(t.stack)-1]
	line := t.lines[i]
	pad := strings.Repeat("  ", t.depth)
	t.lines[i] = pad + mark(ok) + strings.TrimPrefix(line, pad+"?")
}

func mark(ok bool) string {
	if ok {
		return "+"
	}
	return "-"
}

// now is replaced in tests.
var now = time.Now

// headerValue is the first field name of h, "" when there is none.
func headerValue(h []extract.HeaderField, name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return strings.TrimSpace(f.Value)
		}
	}
	return ""
}
