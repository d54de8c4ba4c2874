package policy

import (
	"runtime/debug"

	"github.com/maildlp/maildlp/policy/action"
)

// CheckEnvelope decides at MAIL time, before any recipient or content is
// known: it evaluates the enforced policies whose rule looks at the sender
// only (no recipient, content or header condition, no recipient
// exception) and whose response is block or tempfail. ok is false when no
// such policy matches; the message then goes on to CheckRecipient and
// Evaluate as usual. Monitor-mode policies and trial mode never decide
// early: their hits are recorded by Evaluate. A panic in a rule gives ok
// with Err set to a [*PanicError]: the front end applies on_error.
func (e *Engine) CheckEnvelope(env Envelope) (action.Verdict, bool) {
	env.Rcpts = nil
	return e.early(env, false)
}

// CheckRecipient decides at RCPT time for one recipient: it evaluates the
// enforced envelope-only policies (sender, recipients, recipient domains,
// direction) with block or tempfail responses as if rcpt were the only
// recipient. When ok, the front end refuses this recipient with the
// verdict's reply; the other recipients are unaffected.
func (e *Engine) CheckRecipient(env Envelope, rcpt string) (action.Verdict, bool) {
	env.Rcpts = []string{rcpt}
	return e.early(env, true)
}

func (e *Engine) early(env Envelope, withRcpt bool) (v action.Verdict, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			// Not swallowed: the front end logs and counts it and
			// applies its on_error outcome.
			v, ok = action.Verdict{Action: action.Pass, IncidentID: newIncidentID(), Err: &PanicError{Value: r, Stack: debug.Stack()}}, true
		}
	}()
	if e.cfg.TrialMode {
		return action.Verdict{}, false
	}
	f := newFacts(env, nil, e.internal)
	var enforced []*compiled
	v = action.Verdict{Action: action.Pass}
	for _, c := range e.policies {
		if c.monitor || !c.envelope || (c.action != action.Block && c.action != action.TempFail) {
			continue
		}
		if c.rcptDep && !withRcpt {
			continue
		}
		if c.excepted(f) != "" || !c.rule.eval(f, nil) {
			continue
		}
		enforced = append(enforced, c)
	}
	if len(enforced) == 0 {
		return action.Verdict{}, false
	}
	v.IncidentID = newIncidentID()
	for _, c := range enforced {
		v.Policies = append(v.Policies, action.PolicyHit{Name: c.cfg.Name, Severity: string(c.cfg.Severity), Mode: "prevent", Action: c.action})
	}
	e.merge(&v, f, enforced, false)
	return v, true
}
