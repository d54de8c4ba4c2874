package metrics

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is the set of maildlp metrics, registered on its own Registry.
type Metrics struct {
	// Registry is the registry every maildlp metric is registered on. It
	// also carries the Go runtime and process collectors.
	Registry *prometheus.Registry

	messages      *prometheus.CounterVec
	detections    *prometheus.CounterVec
	unscannable   *prometheus.CounterVec
	errors        *prometheus.CounterVec
	scanDuration  *prometheus.HistogramVec
	sessions      *prometheus.GaugeVec
	outboxDepth   prometheus.Gauge
	outboxResults *prometheus.CounterVec
	outboxFull    prometheus.Counter
	reloads       *prometheus.CounterVec
	incidentErrs  prometheus.Counter
	panics        *prometheus.CounterVec

	ready atomic.Bool
}

// New creates the metrics on a fresh Registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maildlp_messages_total",
			Help: "Messages decided, by front end and by the action actually applied.",
		}, []string{"frontend", "action"}),
		detections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maildlp_detections_total",
			Help: "Distinct values detected (medium confidence or above), by detector type.",
		}, []string{"type"}),
		unscannable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maildlp_unscannable_total",
			Help: "Content the engine could not read, by reason.",
		}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maildlp_decision_errors_total",
			Help: "Decisions where a failure outcome applied (timeout, overload, engine error), by front end.",
		}, []string{"frontend"}),
		scanDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "maildlp_scan_duration_seconds",
			Help:    "Time from the end of the message data to the decision, by front end.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"frontend"}),
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "maildlp_sessions_in_flight",
			Help: "Open MTA sessions (milter connections, SMTP hop connections), by front end.",
		}, []string{"frontend"}),
		outboxDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "maildlp_outbox_depth",
			Help: "Notices waiting in the outbox for delivery to the relay.",
		}),
		outboxResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maildlp_outbox_attempts_total",
			Help: "Notice delivery attempts, by result: sent, retry, dead (given up).",
		}, []string{"result"}),
		outboxFull: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "maildlp_outbox_refused_total",
			Help: "Notices not queued because the outbox held notify.max_queued notices.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maildlp_config_reloads_total",
			Help: "Config and policy reloads, by result: ok or failed.",
		}, []string{"result"}),
		incidentErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "maildlp_incident_write_errors_total",
			Help: "Incidents that could not be written to the incident log.",
		}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maildlp_panics_total",
			Help: "Panics recovered, by component: engine (policy evaluation), milter, reinject. Each applied the on_error outcome.",
		}, []string{"component"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.messages, m.detections, m.unscannable, m.errors, m.scanDuration,
		m.sessions, m.outboxDepth, m.outboxResults, m.outboxFull, m.reloads, m.incidentErrs,
		m.panics,
	)
	// Make the ok/failed series visible before the first reload.
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("failed")
	for _, c := range []string{"engine", "milter", "reinject"} {
		m.panics.WithLabelValues(c)
	}
	return m
}

// Message counts one decided message and observes its scan duration.
func (m *Metrics) Message(frontend, action string, d time.Duration) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues(frontend, action).Inc()
	m.scanDuration.WithLabelValues(frontend).Observe(d.Seconds())
}

// DecisionError counts a decision where a failure outcome applied.
func (m *Metrics) DecisionError(frontend string) {
	if m == nil {
		return
	}
	m.errors.WithLabelValues(frontend).Inc()
}

// Detection adds n distinct values found by detector typ.
func (m *Metrics) Detection(typ string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.detections.WithLabelValues(typ).Add(float64(n))
}

// Unscannable counts one unscannable finding with its reason.
func (m *Metrics) Unscannable(reason string) {
	if m == nil {
		return
	}
	if reason == "" {
		reason = "unknown"
	}
	m.unscannable.WithLabelValues(strings.ToLower(reason)).Inc()
}

// SessionStarted counts an MTA session opened on frontend; call
// SessionEnded when it closes.
func (m *Metrics) SessionStarted(frontend string) {
	if m == nil {
		return
	}
	m.sessions.WithLabelValues(frontend).Inc()
}

// SessionEnded counts an MTA session closed on frontend.
func (m *Metrics) SessionEnded(frontend string) {
	if m == nil {
		return
	}
	m.sessions.WithLabelValues(frontend).Dec()
}

// SetOutboxDepth sets the number of notices waiting in the outbox.
func (m *Metrics) SetOutboxDepth(n int) {
	if m == nil {
		return
	}
	m.outboxDepth.Set(float64(n))
}

// OutboxAttempt counts one delivery attempt: result is "sent", "retry" or "dead".
func (m *Metrics) OutboxAttempt(result string) {
	if m == nil {
		return
	}
	m.outboxResults.WithLabelValues(result).Inc()
}

// OutboxFull counts a notice refused because the outbox is full.
func (m *Metrics) OutboxFull() {
	if m == nil {
		return
	}
	m.outboxFull.Inc()
}

// Reload counts one config reload.
func (m *Metrics) Reload(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("failed").Inc()
	}
}

// IncidentWriteError counts an incident that could not be written.
func (m *Metrics) IncidentWriteError() {
	if m == nil {
		return
	}
	m.incidentErrs.Inc()
}

// Panic counts a panic recovered in component ("engine", "milter",
// "reinject").
func (m *Metrics) Panic(component string) {
	if m == nil {
		return
	}
	m.panics.WithLabelValues(component).Inc()
}

// Value is the value of the counter or gauge name with the given label
// values (in the order of the label names, sorted), read from the registry as /metrics
// shows it; 0 when it has no such series yet. Tests read their own
// instance's figures with it.
func (m *Metrics) Value(name string, labels ...string) float64 {
	mfs, err := m.Registry.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			if len(s.GetLabel()) != len(labels) {
				continue
			}
			match := true
			for i, l := range s.GetLabel() {
				if l.GetValue() != labels[i] {
					match = false
				}
			}
			if !match {
				continue
			}
			if c := s.GetCounter(); c != nil {
				return c.GetValue()
			}
			return s.GetGauge().GetValue()
		}
	}
	return 0
}

// SetReady sets what /readyz answers.
func (m *Metrics) SetReady(ready bool) {
	if m == nil {
		return
	}
	m.ready.Store(ready)
}

// Ready reports what /readyz answers.
func (m *Metrics) Ready() bool { return m != nil && m.ready.Load() }
