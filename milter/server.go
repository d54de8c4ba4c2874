package milter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/sessionid"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// engine is what the milter needs of [policy.Engine].
type engine interface {
	Evaluate(ctx context.Context, m policy.Message) action.Verdict
	CheckEnvelope(env policy.Envelope) (action.Verdict, bool)
	CheckRecipient(env policy.Envelope, rcpt string) (action.Verdict, bool)
	// Config is the configuration the engine was built from: its
	// [limits] bound the message held and the scan deadline.
	Config() *config.Config
}

// Server is the milter front end: its sessions translate MTA events into
// a [policy.Message] and the engine's verdict back into milter responses
// (the session loop is conn, in loop.go).
type Server struct {
	engine func() engine
	o      options
	log    *slog.Logger

	sessions atomic.Int64   // MTA connections being served
	scans    sync.WaitGroup // engine goroutines still running
	milters  atomic.Uint64  // sessions negotiated so far

	next chan net.Conn // to a goroutine waiting for a connection to serve
	idle atomic.Int32  // goroutines waiting on next
	stop chan struct{} // closed by Shutdown: the waiting goroutines end

	closing   atomic.Bool
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{} // connections being served
	served    sync.WaitGroup        // their goroutines
}

// Actions we may ask the MTA to perform, and the protocol options we would
// like. Negotiation keeps what the MTA offers (see negotiate).
const (
	wantActions = gomilter.OptAddHeader | gomilter.OptChangeHeader | gomilter.OptAddRcpt |
		gomilter.OptRemoveRcpt | gomilter.OptQuarantine | gomilter.OptSetMacros
	// No replies to events whose answer is always "continue": each saved
	// round trip is a few tens of µs per header on loopback. MAIL and RCPT
	// keep their replies (early decisions); EOM always has one.
	wantProtocol = gomilter.OptNoUnknown | gomilter.OptNoConnReply | gomilter.OptNoHeloReply |
		gomilter.OptNoDataReply | gomilter.OptNoEOHReply | gomilter.OptNoUnknownReply |
		gomilter.OptNoHeaderReply | gomilter.OptNoBodyReply | gomilter.OptHeaderLeadingSpace
)

// Macros requested per stage (SMFIF_SETSYMLIST). Postfix and Sendmail send
// exactly these when they support the request; docs/milter.md lists the
// matching milter_*_macros settings for MTAs that do not.
var macroRequests = []struct {
	stage  gomilter.MacroStage
	macros []gomilter.MacroName
}{
	{gomilter.StageConnect, []string{gomilter.MacroMTAFQDN, gomilter.MacroDaemonName, gomilter.MacroClientAddr, gomilter.MacroClientName}},
	{gomilter.StageMail, []string{gomilter.MacroQueueId, gomilter.MacroAuthAuthen, gomilter.MacroMailAddr}},
	{gomilter.StageRcpt, []string{gomilter.MacroRcptAddr}},
	{gomilter.StageData, []string{gomilter.MacroQueueId}},
	{gomilter.StageEOH, []string{gomilter.MacroQueueId}},
	{gomilter.StageEOM, []string{gomilter.MacroQueueId}},
}

// New returns a milter server for the [milter] section cfg, as loaded
// (defaults applied, values checked). current is called once per message
// (at MAIL FROM) to get the current engine, so that a configuration reload
// never changes a decision in the middle of a message; it may return nil
// while no engine is loaded (the on_error outcome then applies).
func New(cfg config.Milter, current func() *policy.Engine, opts ...Option) *Server {
	return newServer(cfg, func() engine {
		if e := current(); e != nil {
			return e
		}
		return nil
	}, opts...)
}

func newServer(cfg config.Milter, eng func() engine, opts ...Option) *Server {
	o := defaultOptions(cfg)
	for _, opt := range opts {
		opt(&o)
	}
	return &Server{engine: eng, o: o, log: o.log.With("component", "milter"),
		next: make(chan net.Conn), stop: make(chan struct{}),
		listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{}}
}

// negotiate accepts the MTA's protocol version (2 to 6) and asks for the
// actions and protocol options we want that the MTA offers, instead of
// failing the connection when a restricted MTA lacks one: a verdict that
// needs a missing action then takes the on_error outcome. Packets we send
// stay at 64 KiB whatever size the MTA offers (go-milter's writer cannot
// send more).
func negotiate(mtaVersion, _ uint32, mtaActions, _ gomilter.OptAction, mtaProtocol, _ gomilter.OptProtocol, _ gomilter.DataSize) (uint32, gomilter.OptAction, gomilter.OptProtocol, gomilter.DataSize, error) {
	if mtaVersion < 2 {
		return 0, 0, 0, 0, fmt.Errorf("milter: MTA protocol version %d is too old", mtaVersion)
	}
	version := min(mtaVersion, gomilter.MaxServerProtocolVersion)
	return version, wantActions & mtaActions, wantProtocol & mtaProtocol, gomilter.DataSize64K, nil
}

// Serve accepts MTA connections on ln until [Server.Shutdown]. It may be
// called for several listeners. Connections are tuned as described for
// [Listen] when ln comes from Listen or is a bare TCP or unix listener.
func (s *Server) Serve(ln net.Listener) error {
	// Listeners from Listen (possibly wrapped by the caller) already tune
	// their connections; a bare one gets the same treatment.
	switch ln.(type) {
	case *net.TCPListener, *net.UnixListener:
		ln = connListener{ln}
	}
	ln = allowListener{Listener: ln, srv: s}
	if !s.track(ln, nil, true) {
		return nil
	}
	defer s.track(ln, nil, false)
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			return err
		}
		if !s.track(nil, c, true) {
			c.Close()
			continue
		}
		s.handle(c)
	}
}

// maxIdleWorkers bounds the goroutines kept waiting for the next MTA
// connection.
const maxIdleWorkers = 16

// handle serves c on a goroutine that served an earlier connection, if
// one is waiting, else on a new one. The MTA opens a connection per
// message, and a new goroutine's stack starts small and is copied several
// times as it grows to the depth the engine needs (5 % of maildlp's CPU
// under Postfix load); a goroutine kept from an earlier connection has
// that stack already, until the garbage collector shrinks an idle one.
func (s *Server) handle(c net.Conn) {
	select {
	case s.next <- c:
	default:
		go s.work(c)
	}
}

// work serves c, then waits for another connection while fewer than
// maxIdleWorkers others wait, until Shutdown.
func (s *Server) work(c net.Conn) {
	for {
		newConn(s, c).serve()
		s.track(nil, c, false)
		if s.idle.Add(1) > maxIdleWorkers {
			s.idle.Add(-1)
			return
		}
		select {
		case c = <-s.next:
			s.idle.Add(-1)
		case <-s.stop:
			s.idle.Add(-1)
			return
		}
	}
}

// track adds or removes a listener or a connection; adding fails once
// the server is shutting down.
func (s *Server) track(ln net.Listener, c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add && s.closing.Load() {
		return false
	}
	switch {
	case ln != nil && add:
		s.listeners[ln] = struct{}{}
	case ln != nil:
		delete(s.listeners, ln)
	case add:
		s.conns[c] = struct{}{}
		s.served.Add(1)
	default:
		delete(s.conns, c)
		s.served.Done()
	}
	return true
}

// allowListener disconnects TCP clients outside the allowlist as soon as
// they connect: anyone who can open a session can hold one of
// max_sessions, and an MTA that is not ours has nothing to ask.
type allowListener struct {
	net.Listener
	srv *Server
}

func (l allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.srv.allowed(c.RemoteAddr()) {
			return c, nil
		}
		l.srv.log.Warn("client refused: not in milter.allow", "client", c.RemoteAddr().String())
		c.Close()
	}
}

// allowed reports whether a client may connect: a TCP client only from
// the allowlist; any other (a unix socket peer: the socket's permissions
// decide) always.
func (s *Server) allowed(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return true
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	return config.ContainsAddr(s.o.cfg.Allow, ip)
}

// Shutdown stops accepting connections and waits until the MTA has closed
// every session and every scan has finished, or ctx is done; then it closes
// the remaining connections (the MTA applies its default action to them).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing.Swap(true) {
		close(s.stop)
	}
	var err error
	for ln := range s.listeners {
		err = errors.Join(err, ln.Close())
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.served.Wait()
		s.scans.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// Sessions returns the number of MTA connections being served.
func (s *Server) Sessions() int { return int(s.sessions.Load()) }

// newSession is called once per negotiated MTA connection; Cleanup
// releases the session slot.
func (s *Server) newSession(version uint32, actions gomilter.OptAction, protocol gomilter.OptProtocol, _ gomilter.DataSize) gomilter.Milter {
	n := s.sessions.Add(1)
	return &session{
		srv:        s,
		id:         sessionid.New(),
		version:    version,
		actions:    actions,
		leadSpace:  protocol&gomilter.OptHeaderLeadingSpace != 0,
		overloaded: s.o.cfg.MaxSessions > 0 && n > int64(s.o.cfg.MaxSessions),
	}
}

// LogLibraryWarnings sends warnings of the go-milter library, if any of
// its code that logs is ever used, to l instead of the standard library's
// log package. The session loop itself (loop.go) logs through the
// server's logger as component "milter". go-milter has a single hook for
// the whole process, so this is a process-wide setting; call it once at
// start-up.
func LogLibraryWarnings(l *slog.Logger) {
	l = l.With("component", "go-milter")
	gomilter.LogWarning = func(format string, v ...any) {
		l.Warn(fmt.Sprintf(format, v...))
	}
}
