package report

import "github.com/maildlp/maildlp/policy/action"

// Verdict is a decision as it is written for people and tools: the
// incident log records it and `maildlp scan --json` prints it, in the
// same shape. Reply is the refusal as the client reads it (rendered,
// incident id included); AddHeaders and PassHeader are the header fields
// the message gets, SubjectPrefix and SubjectReplace its subject change.
type Verdict struct {
	IncidentID string `json:"incident_id,omitempty"`
	// Action is what was done with the message (the incident log) or what
	// a front end does with it (scan).
	Action   string   `json:"action"`
	Policies []Policy `json:"policies"`

	Reply            *action.Reply   `json:"reply,omitempty"`
	QuarantineReason string          `json:"quarantine_reason,omitempty"`
	RedirectTo       []string        `json:"redirect_to,omitempty"`
	SubjectPrefix    string          `json:"subject_prefix,omitempty"`
	SubjectReplace   string          `json:"subject_replace,omitempty"`
	AddHeaders       []action.Header `json:"add_headers,omitempty"`
	PassHeader       *action.Header  `json:"pass_header,omitempty"`
}

// Policy is one matched policy of a verdict.
type Policy struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Mode     string `json:"mode"`   // prevent or monitor
	Action   string `json:"action"` // what it asks for, or would have in monitor mode
	Enforced bool   `json:"enforced"`
}

// NewVerdict is the record of v as applied: applied is what was done,
// reply the refusal the client got (nil: none), pass the pass header the
// message got (nil: none).
func NewVerdict(v action.Verdict, applied action.Action, reply *action.Wire, pass *action.Header) Verdict {
	out := Verdict{
		IncidentID:       v.IncidentID,
		Action:           applied.String(),
		QuarantineReason: v.QuarantineReason,
		RedirectTo:       v.RedirectTo,
		SubjectPrefix:    v.SubjectPrefix,
		SubjectReplace:   v.SubjectReplace,
		AddHeaders:       v.AddHeaders,
		PassHeader:       pass,
		Policies:         make([]Policy, 0, len(v.Policies)),
	}
	for _, p := range v.Policies {
		out.Policies = append(out.Policies, Policy{
			Name: p.Name, Severity: p.Severity, Mode: p.Mode, Action: p.Action.String(), Enforced: p.Mode != "monitor",
		})
	}
	if reply != nil {
		out.Reply = &action.Reply{Code: reply.Code, Enhanced: reply.Enhanced, Text: reply.Text()}
	}
	return out
}
