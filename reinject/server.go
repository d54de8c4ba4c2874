package reinject

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/extract"
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
	holdKey     []byte
}

// WithScanSlots bounds the scans running at once, shared with the other
// front end ([limits] max_concurrent_scans). A message that gets no slot
// within scan_timeout gets the on_overload outcome.
func WithScanSlots(s *policy.Slots) Option { return func(o *options) { o.slots = s } }

// WithScanTimeout overrides the deadline for a verdict once the message
// has been received; by default it is the engine's scan_timeout
// (Limits().ScanTimeout), else 20s. Past it the on_timeout outcome applies.
func WithScanTimeout(d time.Duration) Option { return func(o *options) { o.scanTimeout = d } }

// scanTimeout is the deadline for the verdict of eng.
func (s *Server) scanTimeout(eng Evaluator) time.Duration {
	if s.scanTO > 0 {
		return s.scanTO
	}
	if l, ok := eng.(interface{ Limits() extract.Limits }); ok {
		if d := l.Limits().ScanTimeout; d > 0 {
			return d
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
	// holdKey signs the hold mark (quarantine_action "hold").
	holdKey []byte

	smtp      *smtp.Server
	tlsServer *tls.Config
	roots     *x509.CertPool
	allow     []netip.Prefix
	xfwdFrom  []netip.Prefix // clients whose XFORWARD is believed
	source    netip.Addr
	hops      []config.NextHop
	res       *resolver
	to        timeouts
	sem       chan struct{}

	sessMu   sync.Mutex
	sessions map[*session]struct{}
	conns    map[*cmdConn]struct{}
}

// New builds the hop from its [reinject] configuration (defaults applied
// here). engine is called once per message, so a reload never changes a
// decision mid-message; it must not return nil.
func New[E Evaluator](engine func() E, cfg config.Reinject, opts ...Option) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{
		cfg:      cfg,
		engine:   func() Evaluator { return engine() },
		log:      o.log.With("component", "reinject"),
		pass:     passDefaults(o.pass),
		fail:     o.fail,
		slots:    o.slots,
		scanTO:   o.scanTimeout,
		holdKey:  o.holdKey,
		res:      newResolver(cfg),
		sem:      make(chan struct{}, cfg.MaxConnections),
		sessions: map[*session]struct{}{},
		conns:    map[*cmdConn]struct{}{},
		to: timeouts{
			connect: cfg.Timeouts.Connect.D(),
			command: cfg.Timeouts.DownstreamCommand.D(),
			data:    cfg.Timeouts.DownstreamData.D(),
			final:   cfg.Timeouts.DownstreamFinal.D(),
		},
	}
	if s.holding() && len(s.holdKey) == 0 {
		return nil, errors.New("reinject: quarantine_action \"hold\" needs a hold mark key (quarantine.hold_key_file)")
	}
	s.rec = o.rec
	if s.rec == nil {
		s.rec = logRecorder{s.log}
	}
	for _, a := range cfg.Allow {
		p, _ := config.ParseAllow(a)
		s.allow = append(s.allow, p)
	}
	for _, a := range cfg.XForwardFrom {
		p, _ := config.ParseAllow(a)
		s.xfwdFrom = append(s.xfwdFrom, p)
	}
	for _, h := range cfg.NextHops {
		nh, _ := config.ParseNextHop(h)
		s.hops = append(s.hops, nh)
	}
	if cfg.SourceAddr != "" {
		s.source, _ = netip.ParseAddr(cfg.SourceAddr)
	}
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("reinject: load tls.cert_file/key_file: %w", err)
		}
		s.tlsServer = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	roots, err := loadRoots(cfg.TLS.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reinject: %w", err)
	}
	s.roots = roots

	srv := smtp.NewServer(backend{s})
	srv.Domain = cfg.HELOName
	// One more than the limit: go-smtp refuses a message of exactly its
	// MaxMessageBytes; the session and cmdConn apply the limit itself.
	srv.MaxMessageBytes = int64(cfg.MaxMessageBytes) + 1
	srv.MaxRecipients = cfg.MaxRecipients
	srv.MaxLineLength = int(cfg.MaxLineLength)
	srv.EnableDSN = true
	// ReadTimeout and WriteTimeout stay zero: cmdConn keeps the deadlines,
	// including while DATA streams. TLSConfig stays nil: cmdConn does
	// STARTTLS so that it keeps seeing the commands.
	srv.ErrorLog = errorLog{s.log}
	s.smtp = srv
	return s, nil
}

func passDefaults(p config.PassHeader) config.PassHeader {
	if p.Enabled == nil {
		t := true
		p.Enabled = &t
	}
	if p.Name == "" {
		p.Name = "X-Filter-Loop"
	}
	if p.Value == "" {
		p.Value = "Reflected"
	}
	if p.MaxIncoming <= 0 {
		p.MaxIncoming = config.DefaultPassHeaderMaxIncoming
	}
	if p.OnTooMany == "" {
		p.OnTooMany = config.DefaultPassHeaderOnTooMany
	}
	return p
}

// Serve accepts connections on ln until Shutdown. Clients outside the
// allowlist get 554 and connections over max_connections get 421, both at
// connect.
func (s *Server) Serve(ln net.Listener) error {
	err := s.smtp.Serve(&guardListener{Listener: ln, srv: s})
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// ListenAndServe listens on cfg.Listen (default 127.0.0.1:10025) and serves.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("reinject: listen %s: %w", s.cfg.Listen, err)
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "mode", s.cfg.Mode)
	return s.Serve(ln)
}

// Shutdown stops accepting, lets sessions finish until ctx ends, then
// closes what is left. A session closed mid-transaction has not said 250:
// its client keeps the message.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// go-smtp's Close does nothing once Shutdown has begun: close the
		// connections here. A session cut mid-transaction never said 250.
		s.sessMu.Lock()
		for c := range s.conns {
			c.raw.Close()
		}
		s.sessMu.Unlock()
		s.waitSessions(5 * time.Second)
	}
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// waitSessions waits, up to d, until no session command is running: after
// a forced close the commands fail fast, and none runs after Shutdown.
func (s *Server) waitSessions(d time.Duration) {
	s.sessMu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		list = append(list, ss)
	}
	s.sessMu.Unlock()
	done := make(chan struct{})
	go func() {
		for _, ss := range list {
			ss.mu.Lock()
			ss.mu.Unlock() // only waiting for the running command
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		s.log.Warn("sessions still running after shutdown", "count", len(list))
	}
}

func (s *Server) track(ss *session, on bool) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if on {
		s.sessions[ss] = struct{}{}
	} else {
		delete(s.sessions, ss)
	}
}

// guardListener applies the allowlist and the connection limit, and
// wraps each accepted connection in the command interceptor.
type guardListener struct {
	net.Listener
	srv *Server
}

func (l *guardListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.srv
		if !s.allowed(c.RemoteAddr()) {
			s.log.Warn("client refused: not in allow list", "client", c.RemoteAddr().String())
			go refuse(c, "554 5.7.1 Client not authorized to use this service")
			continue
		}
		select {
		case s.sem <- struct{}{}:
		default:
			s.log.Warn("client refused: max_connections reached", "client", c.RemoteAddr().String(), "max_connections", s.cfg.MaxConnections)
			go refuse(c, "421 4.7.0 Too many connections, try again later")
			continue
		}
		var cc *cmdConn
		cc = newCmdConn(c, s, func() {
			s.sessMu.Lock()
			delete(s.conns, cc)
			s.sessMu.Unlock()
			<-s.sem
		})
		s.sessMu.Lock()
		s.conns[cc] = struct{}{}
		s.sessMu.Unlock()
		return cc, nil
	}
}

func refuse(c net.Conn, line string) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(line + "\r\n"))
	c.Close()
}

func (s *Server) allowed(a net.Addr) bool { return inPrefixes(s.allow, a) }

// xforwardTrusted reports whether a client's XFORWARD is believed.
func (s *Server) xforwardTrusted(a net.Addr) bool {
	return *s.cfg.XForward && inPrefixes(s.xfwdFrom, a)
}

func inPrefixes(list []netip.Prefix, a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range list {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// errorLog sends go-smtp's internal messages to the logger.
type errorLog struct{ log *slog.Logger }

func (e errorLog) Printf(format string, v ...any) {
	if strings.HasPrefix(format, "panic") {
		recoveredPanics.Add(1)
		e.log.Error("smtp: " + fmt.Sprintf(format, v...))
		return
	}
	e.log.Debug("smtp: " + fmt.Sprintf(format, v...))
}

// recoveredPanics counts panics go-smtp recovered in sessions (tests fail on any).
var recoveredPanics atomic.Int64

func (e errorLog) Println(v ...any) { e.log.Debug("smtp: " + fmt.Sprint(v...)) }

// logRecorder is the default recorder: one log line per decision.
type logRecorder struct{ log *slog.Logger }

func (l logRecorder) Record(d report.Decision) {
	l.log.Info("decision", "session_id", d.Envelope.SessionID, "queue_id", d.Envelope.QueueID, "action", d.Applied.String(),
		"verdict", d.Verdict.Action.String(), "incident_id", d.Verdict.IncidentID, "duration", d.Duration)
}
