package milter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
)

// passHeader is the header added to every scanned message.
type passHeader struct {
	enabled     bool
	name, value string
	// maxIncoming bounds the pass header fields a message may arrive
	// with; past it the message is refused (or deferred when tooManyTemp).
	maxIncoming int
	tooManyTemp bool
}

// edit is one modification to send at end of message.
type edit struct {
	kind        editKind
	index       int
	name, value string // header name and value, or recipient in value
}

type editKind int

const (
	editAddHeader editKind = iota
	editChangeHeader
	editDelRcpt
	editAddRcpt
	editQuarantine
)

// needs is the negotiated action an edit requires.
func (k editKind) needs() gomilter.OptAction {
	switch k {
	case editAddHeader:
		return gomilter.OptAddHeader
	case editChangeHeader:
		return gomilter.OptChangeHeader
	case editDelRcpt:
		return gomilter.OptRemoveRcpt
	case editAddRcpt:
		return gomilter.OptAddRcpt
	case editQuarantine:
		return gomilter.OptQuarantine
	}
	return 0
}

func (e edit) String() string {
	switch e.kind {
	case editAddHeader:
		return fmt.Sprintf("add header %s", e.name)
	case editChangeHeader:
		return fmt.Sprintf("change header %s #%d", e.name, e.index)
	case editDelRcpt:
		return "delete recipient"
	case editAddRcpt:
		return "add recipient"
	}
	return "quarantine"
}

// applyVerdict carries out the engine's verdict.
func (s *session) applyVerdict(m gomilter.Modifier, msg *message, v action.Verdict) (*gomilter.Response, error) {
	switch v.Action {
	case action.Block, action.TempFail:
		w := v.Refusal(v.Action, msg.smtputf8)
		s.record(msg, report.Decision{Verdict: v, Applied: v.Action, Reply: &w})
		return response(w), nil
	}
	var edits []edit
	var pass *action.Header
	switch v.Action {
	case action.Quarantine:
		edits = append(edits, edit{kind: editQuarantine, value: quarantineReason(v)})
	case action.Redirect:
		if len(v.RedirectTo) == 0 {
			return s.applyFailure(m, msg, s.srv.o.failure.OnError, fmt.Errorf("%w: redirect verdict without a review address", ErrEngine), v), nil
		}
		for _, r := range msg.env.Rcpts {
			edits = append(edits, edit{kind: editDelRcpt, value: r})
		}
		for _, r := range v.RedirectTo {
			edits = append(edits, edit{kind: editAddRcpt, value: r})
		}
	case action.Modify:
		edits = append(edits, s.subjectEdits(msg, v)...)
	}
	for _, h := range v.AddHeaders {
		edits = append(edits, edit{kind: editAddHeader, name: h.Name, value: h.Value})
	}
	if ph := s.srv.o.passHeader; ph.enabled {
		// A pass header the message arrived with was not written by us (a
		// sender can forge one to route around inspection): delete it, last
		// first so that the indexes stay valid, and add ours. Their number
		// is bounded by max_incoming (EndOfMessage). An MTA that does not
		// allow header changes would deliver the forged one beside ours:
		// the check below turns that into the on_error outcome.
		for i := msg.passHeaders; i >= 1; i-- {
			edits = append(edits, edit{kind: editChangeHeader, index: i, name: ph.name, value: ""})
		}
		edits = append(edits, edit{kind: editAddHeader, name: ph.name, value: ph.value})
		pass = &action.Header{Name: ph.name, Value: ph.value}
	}
	// Check every edit against what the MTA granted before sending any:
	// a half-applied redirect must never be delivered.
	for _, e := range edits {
		if s.actions&e.kind.needs() == 0 {
			cause := ErrEngine
			if e.kind == editChangeHeader && strings.EqualFold(e.name, s.srv.o.passHeader.name) && e.value == "" {
				cause = ErrPassHeaderKept
			}
			err := fmt.Errorf("%w: the MTA does not allow %s (milter actions %s)", cause, e, s.actions)
			return s.applyFailure(m, msg, s.srv.o.failure.OnError, err, v), nil
		}
	}
	if err := s.send(m, edits); err != nil {
		return nil, err
	}
	s.record(msg, report.Decision{Verdict: v, Applied: v.Action, PassHeader: pass})
	return gomilter.RespAccept, nil
}

// subjectEdits changes the first Subject field as the verdict says, by
// its per-name index.
//
// Postfix's cleanup(8) skips the first header of its queue file when it
// looks for a field to change or delete: that is its own Received: header,
// which milters do not see, so Subject #1 is the first Subject the milter
// saw even when it was the first field. Checked against Postfix 3.7.11
// with the Subject as first field, also with header_checks removing
// Received: fields: ChangeHeader(1) changes it in every case, while the
// workaround suggested for a first-header problem seen with other setups
// (insert a new Subject at the top, then delete #1) deletes the new field
// and leaves the original.
func (s *session) subjectEdits(msg *message, v action.Verdict) []edit {
	var value string
	switch {
	case v.SubjectReplace != "":
		value = v.SubjectReplace
	case v.SubjectPrefix != "":
		old := strings.TrimLeft(msg.subject, " \t")
		value = strings.TrimRight(v.SubjectPrefix, " ")
		if old != "" {
			value += " " + old
		}
	default:
		return nil
	}
	if msg.subjects == 0 {
		return []edit{{kind: editAddHeader, name: "Subject", value: value}}
	}
	return []edit{{kind: editChangeHeader, index: 1, name: "Subject", value: value}}
}

// headerValue adds the space after the colon when the MTA does not (with
// SMFIP_HDR_LEADSPC negotiated it takes values verbatim).
func (s *session) headerValue(v string) string {
	if s.leadSpace && v != "" {
		return " " + v
	}
	return v
}

// send writes the edits to the MTA; an error means the connection broke.
func (s *session) send(m gomilter.Modifier, edits []edit) error {
	for _, e := range edits {
		var err error
		switch e.kind {
		case editAddHeader:
			err = m.AddHeader(e.name, s.headerValue(e.value))
		case editChangeHeader:
			err = m.ChangeHeader(e.index, e.name, s.headerValue(e.value))
		case editDelRcpt:
			err = m.DeleteRecipient(e.value)
		case editAddRcpt:
			err = m.AddRecipient(e.value, "")
		case editQuarantine:
			err = m.Quarantine(e.value)
		}
		if err != nil {
			return fmt.Errorf("milter: %s: %w", e, err)
		}
	}
	return nil
}

// refusePassHeaders refuses a message that arrived with more pass header
// fields than max_incoming, before it is scanned: deleting them one
// change-header request at a time costs the MTA work quadratic in their
// number (Postfix's cleanup gives up at about 16,000).
func (s *session) refusePassHeaders(msg *message) *gomilter.Response {
	ph := s.srv.o.passHeader
	r := action.PassHeaderFlood(ph.name, !ph.tooManyTemp)
	applied := action.Block
	if ph.tooManyTemp {
		applied = action.TempFail
	}
	cause := fmt.Errorf("%w: %d %s fields (pass_header.max_incoming %d)", ErrPassHeaders, msg.passHeaders, ph.name, ph.maxIncoming)
	s.srv.log.Warn("message refused: too many incoming pass headers", "queue_id", msg.env.QueueID, "count", msg.passHeaders, "max_incoming", ph.maxIncoming)
	w := action.Render(r, r, "", msg.smtputf8)
	s.record(msg, report.Decision{Applied: applied, Err: cause, Reply: &w})
	return response(w)
}

// quarantineReason names the incident and the policies; the MTA logs it
// and shows it with the held message (postcat, mailq).
func quarantineReason(v action.Verdict) string {
	reason := strings.TrimSpace(v.QuarantineReason)
	var names []string
	for _, p := range v.Policies {
		names = append(names, p.Name)
	}
	if reason == "" {
		reason = "maildlp: held by policy " + strings.Join(names, ", ")
	} else if len(names) > 0 && !containsAny(reason, names) {
		reason += " (policy " + strings.Join(names, ", ") + ")"
	}
	if v.IncidentID != "" && !strings.Contains(reason, v.IncidentID) {
		reason += " incident " + v.IncidentID
	}
	return reason
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if x != "" && strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// applyFailure carries out a failure outcome at end of message. The
// message was not (fully) scanned, so it never gets the pass header.
func (s *session) applyFailure(m gomilter.Modifier, msg *message, o config.Outcome, cause error, v action.Verdict) *gomilter.Response {
	if o == config.OutcomeQuarantine && s.actions&gomilter.OptQuarantine == 0 {
		cause = fmt.Errorf("%w; quarantine not allowed by the MTA", cause)
		o = config.OutcomeTempFail
	}
	switch o {
	case config.OutcomeAccept:
		s.recordFailure(msg, o, cause, v, nil)
		return gomilter.RespAccept
	case config.OutcomeQuarantine:
		if err := m.Quarantine("maildlp: message not scanned: " + failureClass(cause)); err != nil {
			s.srv.log.Warn("quarantine request failed", "queue_id", msg.env.QueueID, "err", err)
			w := failureReply(msg, v)
			s.recordFailure(msg, config.OutcomeTempFail, cause, v, &w)
			return response(w)
		}
		s.recordFailure(msg, o, cause, v, nil)
		return gomilter.RespAccept
	}
	w := failureReply(msg, v)
	s.recordFailure(msg, config.OutcomeTempFail, cause, v, &w)
	return response(w)
}

// failureClass names a failure for the MTA's quarantine reason without
// internal detail.
func failureClass(err error) string {
	switch {
	case errors.Is(err, ErrScanTimeout):
		return "scan deadline exceeded"
	case errors.Is(err, policy.ErrNoSlot):
		return "too many concurrent scans"
	case errors.Is(err, ErrOverload):
		return "too many concurrent sessions"
	}
	return "scan error"
}

// record records a decision of msg: d without front end, envelope and
// duration, which come from msg (an envelope in d is kept: a refused
// recipient records its own).
func (s *session) record(msg *message, d report.Decision) {
	d.Frontend = "milter"
	if d.Envelope.SessionID == "" {
		d.Envelope = msg.env
	}
	d.Duration = time.Since(msg.start)
	if !msg.scanStart.IsZero() {
		d.Duration = time.Since(msg.scanStart)
	}
	s.srv.o.recorder.Record(d)
}
