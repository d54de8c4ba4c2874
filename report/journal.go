package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/outbox"
	"github.com/maildlp/maildlp/policy/action"
)

// Journal is the [Recorder] of the running service: for each decision it
// queues the verdict's notices in the outbox, appends the incident to the
// incident log, updates the metrics and writes one log line, in that
// order, before Record returns.
type Journal struct {
	log     *slog.Logger
	metrics *metrics.Metrics
	outbox  *outbox.Outbox

	incidents *incidentLog // nil: incident log disabled
	now       func() time.Time
}

var _ Recorder = (*Journal)(nil)

// NewRecorder opens the incident log of the [incidents] section, as
// loaded (defaults applied), and returns the Journal. m and ob may be nil
// (no metrics; notices are logged as not sent). Close it on shutdown.
func NewRecorder(inc config.Incidents, log *slog.Logger, m *metrics.Metrics, ob *outbox.Outbox) (*Journal, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j := &Journal{log: log, metrics: m, outbox: ob, now: time.Now}
	if inc.Path != "" {
		il, err := openIncidentLog(inc, log)
		if err != nil {
			return nil, err
		}
		j.incidents = il
	}
	return j, nil
}

// Record records one decision. It never fails: a problem writing the
// incident or queueing a notice is logged at error level and counted.
func (j *Journal) Record(d Decision) {
	v := d.Verdict
	cause := d.Err
	if cause == nil {
		cause = v.Err
	}
	// Notices first: when Record returns they are on disk.
	var notices []IncidentNotice
	if len(v.Notices) > 0 {
		notices = j.queueNotices(d)
	}
	if isIncident(d) && j.incidents != nil {
		in := newIncident(d, j.now())
		if cause != nil {
			in.Error = oneLine(cause.Error())
		}
		in.Notices = notices
		if err := j.incidents.write(in); err != nil {
			j.metrics.IncidentWriteError()
			j.log.Error("write incident", "incident_id", v.IncidentID, "error", err)
		}
	}

	j.metrics.Message(d.Frontend, d.Applied.String(), d.Duration)
	if cause != nil {
		j.metrics.DecisionError(d.Frontend)
	}
	for _, det := range v.Detections {
		j.metrics.Detection(det.Type, det.Count)
	}
	for _, u := range v.Unscannable {
		j.metrics.Unscannable(u.Reason)
	}

	policies := make([]string, 0, len(v.Policies))
	for _, p := range v.Policies {
		policies = append(policies, p.Name)
	}
	attrs := []slog.Attr{
		slog.String("session_id", d.Envelope.SessionID),
		slog.String("queue_id", d.Envelope.QueueID),
		slog.String("frontend", d.Frontend),
		slog.String("client", d.Envelope.ClientAddr),
		slog.String("sender", d.Envelope.MailFrom),
		slog.Int("rcpt_count", len(d.Envelope.Rcpts)),
		slog.String("action", d.Applied.String()),
		slog.String("verdict_action", v.Action.String()),
		slog.Any("policies", policies),
		slog.String("incident_id", v.IncidentID),
		slog.Duration("duration", d.Duration),
	}
	if len(v.Detections) > 0 {
		attrs = append(attrs, slog.Any("detections", detectionSummary(v.Detections)))
	}
	if len(v.Unscannable) > 0 {
		attrs = append(attrs, slog.Int("unscannable", len(v.Unscannable)))
	}
	level := slog.LevelInfo
	if cause != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", oneLine(cause.Error())))
	}
	j.log.LogAttrs(context.Background(), level, "decision", attrs...)
}

// detectionSummary is "type:count" per detection: what was found, never
// the values.
func detectionSummary(ds []action.Detection) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s:%d", d.Type, d.Count))
	}
	return out
}

// queueNotices hands the verdict's notices to the outbox. A message the
// front end tempfailed because of a failure (d.Err set: timeout, overload,
// engine error) comes back when the client retries; its notices are sent
// then, not twice.
func (j *Journal) queueNotices(d Decision) []IncidentNotice {
	v := d.Verdict
	out := make([]IncidentNotice, 0, len(v.Notices))
	deferred := d.Err != nil && d.Applied == action.TempFail && v.Action != action.TempFail
	for _, n := range v.Notices {
		rec := IncidentNotice{To: n.To}
		switch {
		case deferred:
			rec.Error = "not queued: the message was tempfailed and will be evaluated again"
		case j.outbox == nil:
			rec.Error = "not queued: no notification relay configured (notify.relay)"
			j.log.Warn("notice not sent: no notification relay configured", "incident_id", v.IncidentID, "rcpt_count", len(n.To))
		default:
			id, err := j.outbox.Enqueue(v.IncidentID, n)
			if err != nil {
				rec.Error = err.Error()
				j.log.Error("queue notice", "incident_id", v.IncidentID, "error", err)
				break
			}
			rec.NoticeID = id
		}
		out = append(out, rec)
	}
	return out
}

// Reopen reopens the incident log (after logrotate moved it).
func (j *Journal) Reopen() error {
	if j.incidents == nil {
		return nil
	}
	return j.incidents.reopen()
}

// Close syncs and closes the incident log.
func (j *Journal) Close() error {
	if j.incidents == nil {
		return nil
	}
	return j.incidents.close()
}

// incidentLog appends JSON lines to a file, one write(2) per incident.
type incidentLog struct {
	path     string
	sync     config.SyncMode
	interval time.Duration
	log      *slog.Logger

	mu    sync.Mutex
	w     io.Writer
	f     *os.File // nil for standard output
	dirty bool
	stop  chan struct{}
	done  chan struct{}
}

func openIncidentLog(c config.Incidents, log *slog.Logger) (*incidentLog, error) {
	il := &incidentLog{path: c.Path, sync: c.Sync, interval: c.SyncInterval.D(), log: log}
	if c.Path == "-" {
		il.w = os.Stdout
		return il, nil
	}
	if err := il.open(); err != nil {
		return nil, err
	}
	if il.sync == config.SyncInterval && il.interval > 0 {
		il.stop, il.done = make(chan struct{}), make(chan struct{})
		go il.syncLoop()
	}
	return il, nil
}

func (il *incidentLog) open() error {
	f, err := os.OpenFile(il.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("report: open incident log: %w", err)
	}
	il.f, il.w = f, f
	return nil
}

func (il *incidentLog) write(in Incident) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode incident: %w", err)
	}
	b = append(b, '\n')
	il.mu.Lock()
	defer il.mu.Unlock()
	if il.w == nil {
		return errors.New("incident log closed")
	}
	if _, err := il.w.Write(b); err != nil {
		return err
	}
	if il.f != nil {
		switch il.sync {
		case config.SyncAlways:
			return il.f.Sync()
		case config.SyncInterval:
			il.dirty = true
		}
	}
	return nil
}

func (il *incidentLog) syncLoop() {
	defer close(il.done)
	t := time.NewTicker(il.interval)
	defer t.Stop()
	for {
		select {
		case <-il.stop:
			return
		case <-t.C:
			il.mu.Lock()
			if il.dirty && il.f != nil {
				if err := il.f.Sync(); err != nil {
					il.log.Error("sync incident log", "error", err)
				}
				il.dirty = false
			}
			il.mu.Unlock()
		}
	}
}

func (il *incidentLog) reopen() error {
	if il.path == "-" {
		return nil
	}
	il.mu.Lock()
	defer il.mu.Unlock()
	old := il.f
	if err := il.open(); err != nil {
		return err
	}
	if old != nil {
		old.Sync()
		old.Close()
	}
	il.dirty = false
	return nil
}

func (il *incidentLog) close() error {
	if il.stop != nil {
		close(il.stop)
		<-il.done
		il.stop = nil
	}
	il.mu.Lock()
	defer il.mu.Unlock()
	il.w = nil
	if il.f == nil {
		return nil
	}
	err := il.f.Sync()
	if cerr := il.f.Close(); err == nil {
		err = cerr
	}
	il.f = nil
	return err
}
