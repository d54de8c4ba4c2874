package milter

import (
	"log/slog"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/report"
)

// Option configures a [Server].
type Option func(*options)

type options struct {
	log        *slog.Logger
	recorder   report.Recorder
	passHeader passHeader
	failure    config.Failure
	// cfg is the [milter] section, as loaded; options may change it.
	cfg config.Milter
	// scanTimeout overrides the engine's limits.scan_timeout when > 0.
	scanTimeout time.Duration
	// slots bounds the scans running at once (nil: no bound).
	slots *policy.Slots
	// metrics counts recovered panics (nil: not counted).
	metrics *metrics.Metrics
}

func defaultOptions(cfg config.Milter) options {
	return options{
		log:        slog.New(slog.DiscardHandler),
		recorder:   nopRecorder{},
		passHeader: passHeader{enabled: true, name: config.DefaultPassHeaderName, value: config.DefaultPassHeaderValue, maxIncoming: config.DefaultPassHeaderMaxIncoming},
		cfg:        cfg,
	}
}

// maxPacket bounds the length a packet from the MTA may declare.
func (o *options) maxPacket() uint32 { return uint32(min(int64(o.cfg.MaxPacketBytes), 1<<31)) }

// WithLogger sets the logger; the server adds component=milter.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithRecorder sets where each message decision is recorded (log line,
// incident, metrics, notices).
func WithRecorder(r report.Recorder) Option {
	return func(o *options) {
		if r != nil {
			o.recorder = r
		}
	}
}

// WithPassHeader sets the header added to every scanned message. Empty
// name or value keep the defaults (X-Filter-Loop: Reflected); Enabled
// false turns it off. MaxIncoming and OnTooMany bound the pass header
// fields a message may arrive with (zero values keep the defaults, 8 and
// reject).
func WithPassHeader(h config.PassHeader) Option {
	return func(o *options) {
		if h.Enabled != nil {
			o.passHeader.enabled = *h.Enabled
		}
		if h.Name != "" {
			o.passHeader.name = h.Name
		}
		if h.Value != "" {
			o.passHeader.value = h.Value
		}
		if h.MaxIncoming > 0 {
			o.passHeader.maxIncoming = h.MaxIncoming
		}
		if h.OnTooMany != "" {
			o.passHeader.tooManyTemp = h.OnTooMany == config.TooManyTempFail
		}
	}
}

// WithFailure sets the outcome of each failure class. Empty or unknown
// values keep the default, tempfail (config validation reports unknown
// values before the server is built).
func WithFailure(f config.Failure) Option {
	return func(o *options) {
		o.failure = f
	}
}

// WithMaxSessions bounds concurrent MTA connections; n <= 0 removes the
// bound. Past it a new session gets the on_overload outcome.
func WithMaxSessions(n int) Option {
	return func(o *options) { o.cfg.MaxSessions = n }
}

// WithLimits overrides the scan deadline at end of message; by default it
// is the engine's limits.scan_timeout. Past it the on_timeout outcome
// applies.
func WithLimits(scanTimeout time.Duration) Option {
	return func(o *options) {
		if scanTimeout > 0 {
			o.scanTimeout = scanTimeout
		}
	}
}

// WithProgressInterval sets how often PROGRESS is sent while a scan runs
// at end of message.
func WithProgressInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.cfg.ProgressInterval = config.Duration(d)
		}
	}
}

// WithScanSlots bounds the scans running at once, shared with the other
// front end ([limits] max_concurrent_scans). A message that gets no slot
// within scan_timeout gets the on_overload outcome.
func WithScanSlots(s *policy.Slots) Option {
	return func(o *options) { o.slots = s }
}

// WithMetrics sets the metrics recovered panics are counted in
// (maildlp_panics_total); decisions are counted by the recorder.
func WithMetrics(m *metrics.Metrics) Option {
	return func(o *options) { o.metrics = m }
}

type nopRecorder struct{}

func (nopRecorder) Record(report.Decision) {}
