package action

import "fmt"

// Action is what a verdict asks the front end to do with a message. The
// numeric order is the precedence: when several policies match, the engine
// keeps the highest.
type Action int

const (
	Pass       Action = iota // deliver unchanged (the pass header is still added)
	Notify                   // deliver unchanged, send the notices
	Modify                   // deliver with subject/header changes
	Redirect                 // deliver only to the review addresses
	Quarantine               // hold the message (Postfix hold queue)
	TempFail                 // refuse with 4xx; the client retries
	Block                    // refuse with 5xx; nothing is delivered
)

var actionNames = [...]string{"pass", "notify", "modify", "redirect", "quarantine", "tempfail", "block"}

func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("action(%d)", int(a))
	}
	return actionNames[a]
}

// ParseAction maps a name used in config files to an Action.
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), nil
		}
	}
	return Pass, fmt.Errorf("unknown action %q (want one of pass, notify, modify, redirect, quarantine, tempfail, block)", s)
}

func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Enforces reports whether the action changes or stops delivery in a way
// the sender or recipient notices (everything but pass and notify).
func (a Action) Enforces() bool { return a >= Modify }

// Reply is an SMTP reply for the peer: code, enhanced status code and text.
// The text is the policy's configured text, never a matched value.
type Reply struct {
	Code     int    `json:"code,omitempty"`     // 550, 451, ...
	Enhanced string `json:"enhanced,omitempty"` // "5.7.1"
	Text     string `json:"text,omitempty"`     // may contain newlines for a multi-line reply
}

// Header is one header field to add to the message.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Notice is a rendered notification to send through the outbox.
type Notice struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
}

// PolicyHit is one policy that matched the message.
type PolicyHit struct {
	Name     string `json:"name"`
	Severity string `json:"severity"` // low, medium, high, critical
	Mode     string `json:"mode"`     // prevent or monitor (monitor also under trial mode)
	Action   Action `json:"action"`   // what the policy asks for (or would have, in monitor mode)
}

// Detection sums up one detector's matches in a message. Evidence is masked.
type Detection struct {
	Type       string   `json:"type"`
	Count      int      `json:"count"` // distinct values
	Confidence string   `json:"confidence"`
	TestValue  bool     `json:"test_value"`
	Evidence   []string `json:"evidence"`
	Locations  []string `json:"locations"`
}

// Unscannable is content the engine could not read, with where and why.
type Unscannable struct {
	Location string `json:"location"`
	Reason   string `json:"reason"` // encrypted, too_large, too_deep, too_many_parts, parse_error, timeout, unsupported
}

// MessageFacts name a message in an incident: its Message-ID and subject
// with every detected value masked, and its size in bytes as received.
type MessageFacts struct {
	MessageID string
	Subject   string
	Size      int64
}

// Verdict is the engine's one decision about one message. It is a plain
// value: front ends translate it into protocol and never decide again.
type Verdict struct {
	Action     Action `json:"action"`
	IncidentID string `json:"incident_id,omitempty"`

	// Reply is sent to the peer for Block and TempFail.
	Reply Reply `json:"reply,omitzero"`
	// QuarantineReason is given to the MTA for Quarantine.
	QuarantineReason string `json:"quarantine_reason,omitempty"`
	// RedirectTo replaces the recipients for Redirect.
	RedirectTo []string `json:"redirect_to,omitempty"`
	// SubjectPrefix is put before the subject; SubjectReplace, when set, replaces it.
	SubjectPrefix  string `json:"subject_prefix,omitempty"`
	SubjectReplace string `json:"subject_replace,omitempty"`
	// AddHeaders are added to the delivered message (Modify, Redirect, Quarantine, Pass).
	AddHeaders []Header `json:"add_headers,omitempty"`
	// Notices are sent whatever the action (they never carry matched values).
	Notices []Notice `json:"notices,omitempty"`

	Policies    []PolicyHit   `json:"policies"`
	Detections  []Detection   `json:"-"` // printed beside the verdict by scan
	Unscannable []Unscannable `json:"-"`

	// Message is what the engine read of the message for the record.
	Message MessageFacts `json:"-"`

	// Err is an internal failure (engine error, recovered panic). It is
	// logged, never sent to a peer; front ends apply their on_error outcome.
	Err error `json:"-"`
}
