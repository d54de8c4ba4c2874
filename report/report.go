// Package report records each message decision the same way for every
// front end: one structured log line, one incident (masked evidence only),
// metrics, and the verdict's notices handed to the durable outbox.
package report

import (
	"time"

	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// Decision is one message decision as a front end carried it out.
type Decision struct {
	Frontend string // "milter" or "reinject" or "scan"
	Envelope policy.Envelope
	Verdict  action.Verdict
	// Applied is what the front end actually did (it differs from
	// Verdict.Action when a failure outcome applied).
	Applied  action.Action
	Duration time.Duration
	Err      error // failure class cause, if any (logged, never sent)
	// Reply is the refusal the client got, as the front end rendered it.
	// When nil and Applied is block or tempfail without Err, it is the
	// verdict's refusal (Verdict.Refusal, ASCII).
	Reply *action.Wire
	// PassHeader is the pass header field the front end added, if any.
	PassHeader *action.Header
}

// reply is the refusal the client got, nil for none.
func (d Decision) reply() *action.Wire {
	if d.Reply != nil {
		return d.Reply
	}
	if d.Err == nil && d.Verdict.Err == nil && (d.Applied == action.Block || d.Applied == action.TempFail) {
		w := d.Verdict.Refusal(d.Applied, false)
		return &w
	}
	return nil
}

// Recorder records decisions. Implementations are safe for concurrent use.
type Recorder interface {
	Record(d Decision)
}
