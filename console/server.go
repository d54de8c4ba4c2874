package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/store"
)

// Options configure [New].
type Options struct {
	Store  *store.Store // migrated
	Config config.Console
	Log    *slog.Logger
	// Now is the clock of sessions, throttling and ages (tests).
	Now func() time.Time
}

// Server is the console: an http.Handler and the server around it.
type Server struct {
	st       *store.Store
	cfg      config.Console
	log      *slog.Logger
	now      func() time.Time
	users    *Users
	sessions *sessions
	throttle *throttle
	proxies  []netip.Prefix
	proxyKey []byte // keys the CSRF token of proxy-authenticated users
	pages    *pages
	stats    *statsCache
	handler  http.Handler

	mu  sync.Mutex
	srv *http.Server
}

// New returns a console on opts.Store.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("console: no store")
	}
	// opts.Config was validated when it was loaded (config.Load).
	cfg := opts.Config.WithDefaults()
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		st:       opts.Store,
		cfg:      cfg,
		log:      opts.Log.With("component", "console"),
		now:      opts.Now,
		users:    &Users{st: opts.Store, now: opts.Now},
		sessions: &sessions{st: opts.Store, lifetime: cfg.SessionLifetime.D(), idle: cfg.SessionIdle.D(), now: opts.Now},
		throttle: newThrottle(cfg.LoginAttempts, cfg.LoginWindow.D(), opts.Now),
		proxies:  cfg.Proxies(),
		proxyKey: make([]byte, 32),
	}
	rand.Read(s.proxyKey)
	var err error
	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	s.stats = &statsCache{st: opts.Store, now: opts.Now, maxAge: time.Minute}
	cop := http.NewCrossOriginProtection()
	for _, o := range cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("console: trusted origin %s: %w", o, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "client", s.clientAddr(r))
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	s.handler = s.securityHeaders(cop.Handler(s.routes()))
	return s, nil
}

// Handler returns the console's handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Users returns the console's user table.
func (s *Server) Users() *Users { return s.users }

// Serve serves on ln (HTTPS when TLS is configured) until Shutdown. It
// keeps the dashboard's figures fresh and expired sessions purged while it
// runs.
func (s *Server) Serve(ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.background(ctx)
	var err error
	if s.cfg.TLS() {
		err = srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops Serve, waiting for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// background refreshes the dashboard's figures before they are asked for,
// so that no page view waits for the aggregate queries, and purges
// expired sessions.
func (s *Server) background(ctx context.Context) {
	t := time.NewTicker(s.stats.maxAge / 2)
	defer t.Stop()
	for {
		if _, err := s.stats.refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("dashboard figures", "err", err)
		}
		if err := s.sessions.purge(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("purge sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// securityHeaders sets the headers of every response: no script may run
// (the pages have none), nothing may frame the console, the browser must
// not sniff types or send the console's URLs to other sites, and pages
// are not cached (they show incidents).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if s.cfg.TLS() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// fromProxy reports whether the request's peer is a trusted proxy.
func (s *Server) fromProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address recorded in the audit log: the peer, or the
// address a trusted proxy names as the last hop before it.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if s.fromProxy(r) {
		xff := r.Header.Values("X-Forwarded-For")
		if len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.String()
			}
		}
	}
	return host
}

// secure reports whether the browser reached the console over HTTPS.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || (s.fromProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// proxyCSRF is the form token of a user signed in by the proxy header:
// there is no server-side session to hold one.
func (s *Server) proxyCSRF(user string) string {
	m := hmac.New(sha256.New, s.proxyKey)
	m.Write([]byte("csrf\x00" + user))
	return hex.EncodeToString(m.Sum(nil))
}
