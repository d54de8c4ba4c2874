package reinject

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
)

// Evaluator is what the hop needs of the policy engine; *policy.Engine
// implements it.
type Evaluator interface {
	Evaluate(ctx context.Context, m policy.Message) action.Verdict
}

// Option configures a [Server].
type Option func(*options)

type options struct {
	log         *slog.Logger
	rec         report.Recorder
	pass        config.PassHeader
	fail        config.Failure
	slots       *policy.Slots
	scanTimeout time.Duration
	metrics     *metrics.Metrics
	holdKey     []byte
}

// WithScanSlots bounds the scans running at once, shared with the other
// front end ([limits] max_concurrent_scans). A message that gets no slot
// within scan_timeout gets the on_overload outcome.
func WithScanSlots(s *policy.Slots) Option { return func(o *options) { o.slots = s } }

// WithScanTimeout overrides the deadline for a verdict once the message
// has been received; by default it is the engine's scan_timeout
// (its config's limits.scan_timeout). Past it the on_timeout outcome applies.
func WithScanTimeout(d time.Duration) Option { return func(o *options) { o.scanTimeout = d } }

// scanTimeout is the deadline for the verdict of eng.
func (s *Server) scanTimeout(eng Evaluator) time.Duration {
	if s.scanTO > 0 {
		return s.scanTO
	}
	if c, ok := eng.(interface{ Config() *config.Config }); ok {
		if cfg := c.Config(); cfg != nil && cfg.Limits.ScanTimeout > 0 {
			return cfg.Limits.ScanTimeout.D()
		}
	}
	return config.DefaultScanTimeout
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRecorder sets where each message decision is recorded (default: one
// log line per decision on the logger).
func WithRecorder(r report.Recorder) Option { return func(o *options) { o.rec = r } }

// WithPassHeader sets the header added to every message sent on (default
// X-Filter-Loop: Reflected).
func WithPassHeader(p config.PassHeader) Option { return func(o *options) { o.pass = p } }

// WithMetrics sets the metrics recovered panics are counted in
// (maildlp_panics_total); decisions are counted by the recorder.
func WithMetrics(m *metrics.Metrics) Option { return func(o *options) { o.metrics = m } }

// WithFailure sets the outcome of each failure class (default tempfail).
func WithFailure(f config.Failure) Option { return func(o *options) { o.fail = f } }

// Server is the reinjection hop: an SMTP proxy that runs the policy on
// every message and sends it on only when the downstream takes it.
type Server struct {
	cfg    config.Reinject
	engine func() Evaluator
	log    *slog.Logger
	rec    report.Recorder
	pass   config.PassHeader
	fail   config.Failure
	slots  *policy.Slots
	scanTO time.Duration
	// metrics counts recovered panics (nil: not counted).
	metrics *metrics.Metrics
	// holdKey signs the hold mark (quarantine_action "hold").
	holdKey []byte

	tlsServer *tls.Config
	res       *resolver
	to        timeouts
	sem       chan struct{}

	mu        sync.Mutex
	sessions  map[*session]struct{}
	listeners map[net.Listener]struct{}
	closing   bool
	wg        sync.WaitGroup // one per running session
}

// New builds the hop from its [reinject] section cfg, as loaded (defaults
// applied, addresses and TLS files read and checked). engine is called
// once per message, so a reload never changes a decision mid-message; it
// must not return nil.
func New[E Evaluator](cfg config.Reinject, engine func() E, opts ...Option) *Server {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{
		cfg:       cfg,
		engine:    func() Evaluator { return engine() },
		log:       o.log.With("component", "reinject"),
		pass:      passDefaults(o.pass),
		fail:      o.fail,
		slots:     o.slots,
		scanTO:    o.scanTimeout,
		metrics:   o.metrics,
		holdKey:   o.holdKey,
		res:       newResolver(cfg),
		sem:       make(chan struct{}, cfg.MaxConnections),
		sessions:  map[*session]struct{}{},
		listeners: map[net.Listener]struct{}{},
		to: timeouts{
			connect: cfg.Timeouts.Connect.D(),
			command: cfg.Timeouts.DownstreamCommand.D(),
			data:    cfg.Timeouts.DownstreamData.D(),
			final:   cfg.Timeouts.DownstreamFinal.D(),
		},
	}
	if s.cfg.QuarantineTo == "" && s.cfg.QuarantineAction == config.HopQuarantineHold && len(s.holdKey) == 0 {
		// Config validation refuses this; a hop built in code without a
		// key defers quarantined messages instead of marking them.
		s.log.Error("quarantine_action \"hold\" without a hold mark key: quarantined messages are deferred")
	}
	s.rec = o.rec
	if s.rec == nil {
		s.rec = logRecorder{s.log}
	}
	if c := cfg.TLS.Certificate; c != nil {
		s.tlsServer = &tls.Config{Certificates: []tls.Certificate{*c}, MinVersion: tls.VersionTLS12}
	}

	return s
}

// passDefaults fills what a [pass_header] section built in code leaves
// unset, from the defaults of the config package.
func passDefaults(p config.PassHeader) config.PassHeader {
	if p.Enabled == nil {
		t := true
		p.Enabled = &t
	}
	setDefault(&p.Name, config.DefaultPassHeaderName)
	setDefault(&p.Value, config.DefaultPassHeaderValue)
	setDefault(&p.MaxIncoming, config.DefaultPassHeaderMaxIncoming)
	setDefault(&p.OnTooMany, config.DefaultPassHeaderOnTooMany)
	return p
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Serve accepts connections on ln until Shutdown. Clients outside the
// allowlist get 554 and connections over max_connections get 421, both at
// connect; every other connection gets its own session goroutine.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond) // out of descriptors: let sessions end
				continue
			}
			return fmt.Errorf("reinject: accept: %w", err)
		}
		if !s.allowed(c.RemoteAddr()) {
			s.log.Warn("client refused: not in allow list", "client", c.RemoteAddr().String())
			go refuse(c, action.ClientRefused)
			continue
		}
		select {
		case s.sem <- struct{}{}:
		default:
			s.log.Warn("client refused: max_connections reached", "client", c.RemoteAddr().String(), "max_connections", s.cfg.MaxConnections)
			go refuse(c, action.TooManyClients)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			s.serveConn(c, s.xforwardTrusted(c.RemoteAddr()))
		}()
	}
}

// Listen opens the hop's TCP listener on addr, without TCP keepalive:
// Go's default costs four setsockopt calls per accepted connection, an
// SMTP client opens one per message or a few, and the command and data
// timeouts find a dead client.
func Listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(context.Background(), "tcp", addr)
}

// ListenAndServe listens on cfg.Listen (default 127.0.0.1:10025) and serves.
func (s *Server) ListenAndServe() error {
	ln, err := Listen(s.cfg.Listen.String())
	if err != nil {
		return fmt.Errorf("reinject: listen %s: %w", s.cfg.Listen, err)
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "mode", s.cfg.Mode)
	return s.Serve(ln)
}

// Shutdown stops accepting and lets sessions finish until ctx ends, then
// closes what is left, downstream connections included, and returns
// ctx's error. A session closed mid-transaction has not said 250: its
// client keeps the message.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for ss := range s.sessions {
		ss.c.raw.Close()
		if d := ss.live.Load(); d != nil {
			d.raw.Close()
		}
	}
	s.mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.log.Warn("sessions still running after shutdown")
	}
	return ctx.Err()
}

// track adds or removes a running session; a session that starts once
// Shutdown has begun is not added (false) and ends at once.
func (s *Server) track(ss *session, on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on {
		delete(s.sessions, ss)
		return true
	}
	if s.closing {
		return false
	}
	s.sessions[ss] = struct{}{}
	return true
}

// refuse answers a connection the hop does not serve, and closes it.
func refuse(c net.Conn, r action.Reply) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(action.Render(r, r, "", false).String() + "\r\n"))
	c.Close()
}

func (s *Server) allowed(a net.Addr) bool { return inPrefixes(s.cfg.Allow, a) }

// xforwardTrusted reports whether a client's XFORWARD is believed.
func (s *Server) xforwardTrusted(a net.Addr) bool {
	return *s.cfg.XForward && inPrefixes(s.cfg.XForwardFrom, a)
}

func inPrefixes(list []config.Network, a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	return config.ContainsAddr(list, ip)
}

// logRecorder is the default recorder: one log line per decision.
type logRecorder struct{ log *slog.Logger }

func (l logRecorder) Record(d report.Decision) {
	l.log.Info("decision", "session_id", d.Envelope.SessionID, "queue_id", d.Envelope.QueueID, "action", d.Applied.String(),
		"verdict", d.Verdict.Action.String(), "incident_id", d.Verdict.IncidentID, "duration", d.Duration)
}
