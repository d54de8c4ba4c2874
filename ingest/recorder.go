package ingest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
	"github.com/maildlp/maildlp/store"
)

// Recorder is the [report.Recorder] that puts each incident in the queue.
// Record costs one JSON encoding and one local write(2); it never waits
// on the store.
type Recorder struct {
	outs    []output
	node    string
	mtaHost string
	log     *slog.Logger
	now     func() time.Time
	// direction names the direction of a recipient list (nil: left empty).
	direction atomic.Pointer[func(rcpts []string) string]

	dropped atomic.Int64
}

var _ report.Recorder = (*Recorder)(nil)

// output is one queue the recorder fills: the store's, the webhook's.
type output struct {
	name string
	q    *Queue
	m    *queueMetrics
}

// SetDirection sets how the direction of an incident is named: the
// engine's own rule ([policy.Engine.Direction]). Safe to call while
// recording.
func (r *Recorder) SetDirection(f func(rcpts []string) string) { r.direction.Store(&f) }

// Dropped counts the incidents not queued (queue full, write error).
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Record queues the incident of d, if d is one.
func (r *Recorder) Record(d report.Decision) {
	if !report.IsIncident(d) {
		return
	}
	in := FromDecision(d, r.now(), r.node, r.mtaHost)
	if f := r.direction.Load(); f != nil {
		in.Direction = (*f)(d.Envelope.Rcpts)
	}
	b, err := json.Marshal(in)
	for _, o := range r.outs {
		qerr := err
		if qerr == nil {
			qerr = o.q.Append(b)
		}
		if qerr == nil {
			continue
		}
		n := r.dropped.Add(1)
		o.m.dropped.Inc()
		// Logged for the first drop and then every 1000th, so that a full
		// queue does not flood the log; the counter has every one.
		if n == 1 || n%1000 == 0 || !errors.Is(qerr, ErrFull) {
			r.log.Error("incident not queued", "queue", o.name, "incident_id", in.ID, "dropped_total", n, "error", qerr)
		}
	}
}

// FromDecision builds the store's incident of d: the same fields and the
// same masking as the incident log.
func FromDecision(d report.Decision, now time.Time, node, mtaHost string) store.Incident {
	ri := report.NewIncident(d, now)
	if cause := d.Err; cause != nil || d.Verdict.Err != nil {
		if cause == nil {
			cause = d.Verdict.Err
		}
		ri.Error = cause.Error()
	}
	in := store.Incident{
		ID:            ri.IncidentID,
		Time:          ri.Time,
		Node:          node,
		Frontend:      ri.Frontend,
		SessionID:     ri.SessionID,
		QueueID:       ri.QueueID,
		Sender:        ri.Sender,
		MessageID:     ri.MessageID,
		Subject:       ri.Subject,
		Size:          ri.Size,
		AuthUser:      ri.AuthUser,
		ClientAddr:    ri.ClientAddr,
		ClientName:    ri.ClientName,
		HELO:          ri.HELO,
		Action:        ri.Action,
		VerdictAction: ri.VerdictAction,
		WouldAction:   ri.WouldAction,
		Duration:      d.Duration,
		Error:         ri.Error,
	}
	if ri.QueueID != "" {
		// The queue id names a message of this node's MTA; a hop without
		// XFORWARD IDENT has only its session id.
		in.MTAHost = mtaHost
	}
	if in.ID == "" {
		in.ID = newID(now)
	}
	for _, a := range ri.Recipients {
		in.Recipients = append(in.Recipients, store.Recipient{Address: a, Action: ri.Action})
	}
	for _, p := range ri.Policies {
		in.Policies = append(in.Policies, store.Policy{Name: p.Name, Severity: p.Severity, Mode: p.Mode, Action: p.Action, Enforced: p.Enforced})
	}
	for _, det := range ri.Detections {
		in.Detections = append(in.Detections, store.Detection{Type: det.Type, Count: det.Count, Confidence: det.Confidence,
			TestValue: det.TestValue, Evidence: det.Evidence, Locations: det.Locations})
	}
	for _, u := range ri.Unscannable {
		in.Unscannable = append(in.Unscannable, store.Unscannable{Location: u.Location, Reason: u.Reason})
	}
	in.Severity = store.MaxSeverity(in.Policies)
	extra := struct {
		Reply            *action.Reply           `json:"reply,omitempty"`
		QuarantineReason string                  `json:"quarantine_reason,omitempty"`
		RedirectTo       []string                `json:"redirect_to,omitempty"`
		SubjectPrefix    string                  `json:"subject_prefix,omitempty"`
		SubjectReplace   string                  `json:"subject_replace,omitempty"`
		AddHeaders       []action.Header         `json:"add_headers,omitempty"`
		Notices          []report.IncidentNotice `json:"notices,omitempty"`
	}{ri.Reply, ri.QuarantineReason, ri.RedirectTo, ri.SubjectPrefix, ri.SubjectReplace, ri.AddHeaders, ri.Notices}
	if b, err := json.Marshal(extra); err == nil && string(b) != "{}" {
		in.Extra = b
	}
	return in
}

// newID makes an incident id for a decision that has none, in the
// engine's format (time-ordered, 26 Crockford base32 digits).
func newID(now time.Time) string {
	const digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [10]byte
	rand.Read(b[:])
	var sb strings.Builder
	ms := uint64(now.UnixMilli())
	for i := 9; i >= 0; i-- {
		sb.WriteByte(digits[(ms>>(5*uint(i)))&31])
	}
	for _, x := range b {
		sb.WriteByte(digits[x&31])
		sb.WriteByte(digits[x>>5])
	}
	return sb.String()[:26]
}

// Tee records each decision with every recorder in order.
type Tee []report.Recorder

// Record implements [report.Recorder].
func (t Tee) Record(d report.Decision) {
	for _, r := range t {
		r.Record(d)
	}
}
