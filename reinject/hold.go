package reinject

import (
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/quarantine/holdmark"
	"github.com/maildlp/maildlp/report"
)

// WithHoldKey sets the key of the hold mark that quarantine_action "hold"
// adds to a quarantined message (quarantine.hold_key_file).
func WithHoldKey(key []byte) Option { return func(o *options) { o.holdKey = key } }

// Every incoming hold mark is removed (session.apply), held message or
// not: a mark written by the sender would have the downstream hold mail
// no policy held.

// holding reports whether a quarantined message goes on with a hold mark
// for the downstream Postfix to hold.
func (s *Server) holding() bool {
	return s.cfg.QuarantineTo == "" && s.cfg.QuarantineAction == "hold"
}

// holdField is the hold mark of a quarantined message: the incident id and
// the hop's session id under the key's MAC.
func (s *Server) holdField(v action.Verdict, d *report.Decision) []byte {
	return fieldLine(holdmark.Header, holdmark.New(s.holdKey, holdmark.Mark{IncidentID: v.IncidentID, SessionID: d.Envelope.SessionID}))
}

// logHeld logs where the downstream holds the message: its queue id, read
// from its final reply ("queued as X"), is the key `maildlp quarantine`
// finds it by on that MTA.
func (ss *session) logHeld(ds *downstream, r reply, v action.Verdict, d *report.Decision) {
	text := ""
	if len(r.Lines) > 0 {
		text = r.Lines[len(r.Lines)-1]
	}
	ss.s.log.Info("held at next hop", "session_id", d.Envelope.SessionID, "incident_id", v.IncidentID,
		"next_hop", ds.addr, "next_hop_queue_id", holdmark.QueuedAs(text))
}
