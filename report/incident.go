package report

import (
	"time"

	"github.com/maildlp/maildlp/policy/action"
)

// Incident is one line of the incident log (JSON). It carries masked
// evidence only, never a matched value.
type Incident struct {
	Time       time.Time `json:"time"`
	IncidentID string    `json:"incident_id,omitempty"`
	Frontend   string    `json:"frontend"`
	SessionID  string    `json:"session_id,omitempty"` // the front end's session and transaction
	QueueID    string    `json:"queue_id,omitempty"`   // the MTA's queue id, when it tells it
	ClientAddr string    `json:"client_addr,omitempty"`
	ClientName string    `json:"client_name,omitempty"`
	HELO       string    `json:"helo,omitempty"`
	AuthUser   string    `json:"auth_user,omitempty"`
	Sender     string    `json:"sender"`
	// Recipients are the original envelope recipients, also when the
	// message was redirected.
	Recipients []string `json:"recipients"`

	// Action is what the front end did; VerdictAction what the engine
	// decided (they differ when a failure outcome applied).
	Action        string `json:"action"`
	VerdictAction string `json:"verdict_action"`
	// WouldAction is the strongest action of the policies in monitor mode
	// (or under trial mode) when it is stronger than Action: what would
	// have happened had they been enforced.
	WouldAction string           `json:"would_action,omitempty"`
	Policies    []IncidentPolicy `json:"policies"`

	Reply            *action.Reply   `json:"reply,omitempty"`
	QuarantineReason string          `json:"quarantine_reason,omitempty"`
	RedirectTo       []string        `json:"redirect_to,omitempty"`
	SubjectPrefix    string          `json:"subject_prefix,omitempty"`
	SubjectReplace   string          `json:"subject_replace,omitempty"`
	AddHeaders       []action.Header `json:"add_headers,omitempty"`

	Detections  []action.Detection   `json:"detections,omitempty"`
	Unscannable []action.Unscannable `json:"unscannable,omitempty"`
	Notices     []IncidentNotice     `json:"notices,omitempty"`

	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
}

// IncidentPolicy is one matched policy in an incident.
type IncidentPolicy struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Mode     string `json:"mode"`   // prevent or monitor
	Action   string `json:"action"` // what it asks for, or would have in monitor mode
	Enforced bool   `json:"enforced"`
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
		Time:             now.UTC(),
		IncidentID:       v.IncidentID,
		Frontend:         d.Frontend,
		ClientAddr:       d.Envelope.ClientAddr,
		ClientName:       d.Envelope.ClientName,
		HELO:             d.Envelope.HELO,
		AuthUser:         d.Envelope.AuthUser,
		Sender:           d.Envelope.MailFrom,
		Recipients:       d.Envelope.Rcpts,
		Action:           d.Applied.String(),
		VerdictAction:    v.Action.String(),
		QuarantineReason: v.QuarantineReason,
		RedirectTo:       v.RedirectTo,
		SubjectPrefix:    v.SubjectPrefix,
		SubjectReplace:   v.SubjectReplace,
		AddHeaders:       v.AddHeaders,
		Detections:       v.Detections,
		Unscannable:      v.Unscannable,
		DurationMS:       float64(d.Duration.Microseconds()) / 1000,
	}
	if in.Recipients == nil {
		in.Recipients = []string{}
	}
	in.SessionID, in.QueueID = d.Envelope.SessionID, d.Envelope.QueueID
	if v.Reply != (action.Reply{}) {
		r := v.Reply
		in.Reply = &r
	}
	in.Policies = make([]IncidentPolicy, 0, len(v.Policies))
	would := action.Pass
	for _, p := range v.Policies {
		enforced := p.Mode != "monitor"
		in.Policies = append(in.Policies, IncidentPolicy{
			Name: p.Name, Severity: p.Severity, Mode: p.Mode, Action: p.Action.String(), Enforced: enforced,
		})
		if !enforced && p.Action > would {
			would = p.Action
		}
	}
	if would > d.Applied {
		in.WouldAction = would.String()
	}
	if d.Err != nil {
		in.Error = d.Err.Error()
	}
	return in
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
