package report

import (
	"strings"
	"time"

	"github.com/maildlp/maildlp/policy/action"
)

// Incident is one line of the incident log (JSON). It carries masked
// evidence only, never a matched value.
type Incident struct {
	Time       time.Time `json:"time"`
	Frontend   string    `json:"frontend"`
	SessionID  string    `json:"session_id,omitempty"` // the front end's session and transaction
	QueueID    string    `json:"queue_id,omitempty"`   // the MTA's queue id, when it tells it
	ClientAddr string    `json:"client_addr,omitempty"`
	ClientName string    `json:"client_name,omitempty"`
	HELO       string    `json:"helo,omitempty"`
	AuthUser   string    `json:"auth_user,omitempty"`
	Sender     string    `json:"sender"`
	// MessageID and Subject are the message's, every detected value in
	// them masked; Size is its size in bytes as received.
	MessageID string `json:"message_id,omitempty"`
	Subject   string `json:"subject,omitempty"`
	Size      int64  `json:"size,omitempty"`
	// Recipients are the original envelope recipients, also when the
	// message was redirected.
	Recipients []string `json:"recipients"`

	// Verdict is the decision in the shape scan --json prints: its Action
	// is what the front end did, VerdictAction what the engine decided
	// (they differ when a failure outcome applied).
	Verdict
	VerdictAction string `json:"verdict_action"`
	// WouldAction is the strongest action of the policies in monitor mode
	// (or under trial mode) when it is stronger than Action: what would
	// have happened had they been enforced.
	WouldAction string `json:"would_action,omitempty"`

	Detections  []action.Detection   `json:"detections,omitempty"`
	Unscannable []action.Unscannable `json:"unscannable,omitempty"`
	Notices     []IncidentNotice     `json:"notices,omitempty"`

	DurationMS float64 `json:"duration_ms"`
	// Error is the failure cause, one line (a panic's stack goes to the
	// debug log, never here).
	Error string `json:"error,omitempty"`
}

// IncidentNotice is one notice of the verdict and what became of it.
type IncidentNotice struct {
	To       []string `json:"to"`
	NoticeID string   `json:"notice_id,omitempty"` // queued in the outbox
	Error    string   `json:"error,omitempty"`     // not queued
}

// newIncident builds the incident of d.
func newIncident(d Decision, now time.Time) Incident {
	v := d.Verdict
	in := Incident{
		Time:          now.UTC(),
		Frontend:      d.Frontend,
		SessionID:     d.Envelope.SessionID,
		QueueID:       d.Envelope.QueueID,
		ClientAddr:    d.Envelope.ClientAddr,
		ClientName:    d.Envelope.ClientName,
		HELO:          d.Envelope.HELO,
		AuthUser:      d.Envelope.AuthUser,
		Sender:        d.Envelope.MailFrom,
		MessageID:     v.Message.MessageID,
		Subject:       v.Message.Subject,
		Size:          v.Message.Size,
		Recipients:    d.Envelope.Rcpts,
		Verdict:       NewVerdict(v, d.Applied, d.reply(), d.PassHeader),
		VerdictAction: v.Action.String(),
		Detections:    v.Detections,
		Unscannable:   v.Unscannable,
		DurationMS:    float64(d.Duration.Microseconds()) / 1000,
	}
	if in.Recipients == nil {
		in.Recipients = []string{}
	}
	would := action.Pass
	for _, p := range v.Policies {
		if p.Mode == "monitor" && p.Action > would {
			would = p.Action
		}
	}
	if would > d.Applied {
		in.WouldAction = would.String()
	}
	if d.Err != nil {
		in.Error = oneLine(d.Err.Error())
	}
	return in
}

// oneLine is the first line of an error text: an incident line carries
// the cause, never a stack or a multi-line dump.
func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(first)
}

// isIncident reports whether d is recorded in the incident log: a policy
// matched, content was unscannable, or the message was not simply passed.
func isIncident(d Decision) bool {
	return len(d.Verdict.Policies) > 0 || len(d.Verdict.Unscannable) > 0 ||
		d.Err != nil || d.Verdict.Err != nil || d.Applied != action.Pass
}

// NewIncident is the incident of d as the incident log records it, for
// other outputs (the incident store) to build on.
func NewIncident(d Decision, now time.Time) Incident { return newIncident(d, now) }

// IsIncident reports whether d is recorded as an incident.
func IsIncident(d Decision) bool { return isIncident(d) }
