package config

import (
	"fmt"
	"slices"
)

// Policy is one [[policy]] table. The schema is documented in
// docs/policy.md; contrib/policies/default.toml is a full example.
type Policy struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Enabled defaults to true; a disabled policy is loaded and checked
	// but never evaluated.
	Enabled *bool `toml:"enabled"`
	// Severity is low, medium (default), high or critical.
	Severity Severity `toml:"severity"`
	// Mode is prevent (default: the response is enforced) or monitor (the
	// hit is recorded with what would have happened; the message passes).
	Mode PolicyMode `toml:"mode"`

	// Rule decides whether the policy matches.
	Rule Condition `toml:"rule"`
	// Except lists what the policy never applies to.
	Except Exceptions `toml:"except"`

	// Responses; the strongest one configured is the policy's action.
	Block      *Reply      `toml:"block"`
	TempFail   *Reply      `toml:"tempfail"`
	Quarantine *Quarantine `toml:"quarantine"`
	Redirect   *Redirect   `toml:"redirect"`
	Modify     *Modify     `toml:"modify"`
	Notify     *Notice     `toml:"notify"`

	// Pos is where the policy is defined (file:line), for messages.
	Pos string `toml:"-"`
}

// IsEnabled reports whether the policy is evaluated.
func (p *Policy) IsEnabled() bool { return p.Enabled == nil || *p.Enabled }

// Condition is a node of a detection rule: either a group (All, Any,
// None; nestable) or exactly one kind of leaf condition. Within a group
// node, All must all hold, at least one of Any must hold (when Any is not
// empty) and none of None may hold.
type Condition struct {
	All  []Condition `toml:"all"`
	Any  []Condition `toml:"any"`
	None []Condition `toml:"none"`

	// Detector: a built-in identifier or a [[detector]] name. Counts are of
	// distinct values at MinConfidence or above; published test values are
	// left out unless IncludeTestValues.
	Detector          string     `toml:"detector"`
	MinConfidence     Confidence `toml:"min_confidence"` // low, medium (default), high
	MinCount          int        `toml:"min_count"`      // default 1
	MaxCount          int        `toml:"max_count"`      // 0: no upper bound
	IncludeTestValues bool       `toml:"include_test_values"`

	// Proximity: two detectors (MinConfidence and counts as above, the
	// count being of distinct values of the first that have a value of the
	// second within Within characters in the same part).
	Proximity []string `toml:"proximity"`
	Within    int      `toml:"within"` // characters, default 300

	// Attachment: an attachment (or archive member) that has all of the
	// given properties at once.
	FileType          []string  `toml:"file_type"` // detected MIME type globs: "application/zip", "image/*"
	Filename          []string  `toml:"filename"`  // name globs, case-insensitive: "*.kdbx"
	MinAttachmentSize *ByteSize `toml:"min_attachment_size"`
	MaxAttachmentSize *ByteSize `toml:"max_attachment_size"`

	// Envelope conditions (decidable at MAIL/RCPT time).
	Sender           []string  `toml:"sender"`            // address patterns; see docs/policy.md
	Recipients       []string  `toml:"recipients"`        // any recipient matches
	RecipientDomains []string  `toml:"recipient_domains"` // any recipient in one of the domains (and subdomains)
	Direction        Direction `toml:"direction"`         // "outbound" or "internal", by internal_domains

	// Header: a top-level header field. Without Matches or Contains, its
	// presence is enough.
	Header   string `toml:"header"`
	Matches  string `toml:"matches"`  // RE2 regular expression on the decoded value
	Contains string `toml:"contains"` // case-insensitive substring

	// Unscannable: content that could not be scanned, for the listed
	// reasons (or any reason).
	Unscannable *Reasons `toml:"unscannable"`

	// Pos is where the condition is written (file:line).
	Pos string `toml:"-"`
}

// Leaf kinds of a Condition, as returned by [Condition.Kind].
const (
	KindGroup       = "group"
	KindDetector    = "detector"
	KindProximity   = "proximity"
	KindAttachment  = "attachment"
	KindSender      = "sender"
	KindRecipients  = "recipients"
	KindDomains     = "recipient_domains"
	KindDirection   = "direction"
	KindHeader      = "header"
	KindUnscannable = "unscannable"
)

// Kind says which kind of condition c is ("" when it is empty).
func (c *Condition) Kind() string {
	k := c.kinds()
	if len(k) == 0 {
		return ""
	}
	return k[0]
}

func (c *Condition) kinds() []string {
	var k []string
	if c.All != nil || c.Any != nil || c.None != nil {
		k = append(k, KindGroup)
	}
	if c.Detector != "" {
		k = append(k, KindDetector)
	}
	if c.Proximity != nil {
		k = append(k, KindProximity)
	}
	if c.FileType != nil || c.Filename != nil || c.MinAttachmentSize != nil || c.MaxAttachmentSize != nil {
		k = append(k, KindAttachment)
	}
	if c.Sender != nil {
		k = append(k, KindSender)
	}
	if c.Recipients != nil {
		k = append(k, KindRecipients)
	}
	if c.RecipientDomains != nil {
		k = append(k, KindDomains)
	}
	if c.Direction != "" {
		k = append(k, KindDirection)
	}
	if c.Header != "" {
		k = append(k, KindHeader)
	}
	if c.Unscannable != nil {
		k = append(k, KindUnscannable)
	}
	return k
}

// Reasons is the value of an unscannable condition: true (any reason) or a
// list of reasons.
type Reasons struct {
	Any  bool
	List []string
}

// UnscannableReasons are the reasons extraction reports.
var UnscannableReasons = []string{"encrypted", "too_large", "too_deep", "too_many_parts", "parse_error", "timeout", "unsupported", "unknown_charset"}

func (r *Reasons) decodeTOML(v any) error {
	switch x := v.(type) {
	case bool:
		if !x {
			return fmt.Errorf("want true or a list of reasons, got false (leave the key out instead)")
		}
		r.Any = true
		return nil
	case []any:
		if len(x) == 0 {
			return fmt.Errorf("empty list of reasons (want true for any reason)")
		}
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("want a reason string, got %s", describe(e))
			}
			if !slices.Contains(UnscannableReasons, s) {
				return fmt.Errorf("unknown reason %q (want one of %s)", s, quoteList(UnscannableReasons))
			}
			r.List = append(r.List, s)
		}
		return nil
	}
	return fmt.Errorf("want true or a list of reasons, got %s", describe(v))
}

// Match reports whether reason is covered.
func (r *Reasons) Match(reason string) bool {
	return r.Any || slices.Contains(r.List, reason)
}

// Exceptions are what a policy never applies to.
type Exceptions struct {
	Senders []string `toml:"senders"` // address patterns
	// Recipients and RecipientDomains except a message only when every
	// recipient is covered: one outside recipient still gets the data.
	Recipients       []string `toml:"recipients"`
	RecipientDomains []string `toml:"recipient_domains"`
	// Detectors except a message when any of them matched (at any
	// confidence), e.g. a keyword detector for "SAMPLE DATA - NOT REAL".
	Detectors []string `toml:"detectors"`
}

// Reply is the block or tempfail response: the SMTP reply for the peer.
// Text may use {policy} and {incident_id}.
type Reply struct {
	Code     int    `toml:"code"`     // default 550 (block) or 451 (tempfail)
	Enhanced string `toml:"enhanced"` // default 5.7.1 or 4.7.1
	Text     string `toml:"text"`
}

// Quarantine holds the message; Reason (with {policy}, {incident_id}) is
// given to the MTA.
type Quarantine struct {
	Reason string `toml:"reason"`
}

// Redirect replaces the recipients with review addresses.
type Redirect struct {
	To []string `toml:"to"`
}

// Modify changes the delivered message.
type Modify struct {
	SubjectPrefix  string   `toml:"subject_prefix"`
	SubjectReplace string   `toml:"subject"` // replaces the subject ({policy}, {incident_id}, {subject})
	Headers        []Header `toml:"headers"`
}

// Header is a header field to add.
type Header struct {
	Name  string `toml:"name"`
	Value string `toml:"value"`
}

// Notice sends notices (through the durable outbox) naming the policy, the
// incident id, the subject and the masked evidence — never the data.
type Notice struct {
	Sender  bool     `toml:"sender"` // notify the envelope sender
	To      []string `toml:"to"`     // and/or these addresses
	Subject string   `toml:"subject"`
	Body    string   `toml:"body"`
}

// Detector is one [[detector]] table: a user-defined detector that
// policies refer to by name.
type Detector struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Type is keywords, regex, dictionary, edm or idm. Kind is another
	// spelling of the same key, for dataset detectors (kind = "edm").
	Type DetectorType `toml:"type"`
	Kind DetectorType `toml:"kind"`
	// Words (keywords) are words or phrases.
	Words         []string `toml:"words"`
	CaseSensitive bool     `toml:"case_sensitive"`
	WholeWord     *bool    `toml:"whole_word"` // default true
	// Pattern (regex) is an RE2 regular expression.
	Pattern string `toml:"pattern"`
	// File (dictionary) is a text file with one word or phrase per line
	// (blank lines and lines starting with # are skipped), relative to the
	// file that defines the detector.
	File string `toml:"file"`
	// Confidence of each match: low, medium (default) or high.
	Confidence Confidence `toml:"confidence"`

	// Dataset detectors (edm, idm; docs/edm.md). Index and KeyFile are
	// relative to the file that defines the detector; after Load they
	// are absolute. The key file must not be readable by group or others.
	Index   string `toml:"index"`
	KeyFile string `toml:"key_file"`
	// EDM: Primary names the columns whose values anchor a row (default:
	// the index's primary columns); Columns the columns that count
	// (default: all); MinColumns how many distinct columns of one row
	// must be found (default 2); Proximity how far from the anchor, in
	// characters, the other values may be (default 300; in a table line,
	// the line).
	Primary    []string `toml:"primary"`
	Columns    []string `toml:"columns"`
	MinColumns int      `toml:"min_columns"`
	Proximity  int      `toml:"proximity"`
	// IDM: Exact matches whole documents by their hashes (default true);
	// MinContainment is the share of an indexed document's fingerprints
	// that must be present (0 to 1; 0: off); MinPassage the longest
	// contiguous shared passage, in normalised characters (0: off).
	Exact          *bool   `toml:"exact"`
	MinContainment float64 `toml:"min_containment"`
	MinPassage     int     `toml:"min_passage"`

	// Pos is where the detector is defined (file:line).
	Pos string `toml:"-"`
}

// IsWholeWord reports whether keywords must match whole words.
func (d *Detector) IsWholeWord() bool { return d.WholeWord == nil || *d.WholeWord }
