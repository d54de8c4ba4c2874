package console

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maildlp/maildlp/store"
)

// handlerFunc is a page or action of a signed-in user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session)

func (s *Server) cookieName(r *http.Request) string {
	if s.secure(r) {
		// The __Host- prefix makes the browser refuse the cookie unless
		// it is Secure, has Path=/ and no Domain.
		return "__Host-maildlp"
	}
	return "maildlp"
}

// routes is the one table of every page and action with the role it needs.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	// Browsers ask for an icon; an empty answer keeps their console quiet.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })

	for _, rt := range []struct {
		pattern string
		role    Role
		h       handlerFunc
	}{
		{"POST /logout", Viewer, s.logout},
		{"GET /{$}", Viewer, s.dashboard},
		{"GET /incidents", Viewer, s.incidentList},
		{"POST /incidents/bulk", Analyst, s.bulkStatus},
		{"POST /views", Viewer, s.saveView},
		{"POST /views/{id}/delete", Viewer, s.deleteView},
		{"GET /incidents/{id}", Viewer, s.incidentDetail},
		{"POST /incidents/{id}/status", Analyst, s.setStatus},
		{"POST /incidents/{id}/assign", Analyst, s.assign},
		{"POST /incidents/{id}/note", Analyst, s.note},
		{"POST /held/{host}/{queue}/release", Analyst, s.requestHeld},
		{"POST /held/{host}/{queue}/delete", Analyst, s.requestHeld},
		{"GET /quarantine", Viewer, s.quarantinePage},
		{"GET /audit", Viewer, s.auditPage},
		{"GET /users", Admin, s.usersPage},
		{"POST /users", Admin, s.addUser},
		{"POST /users/{name}/role", Admin, s.setRole},
		{"POST /users/{name}/password", Admin, s.setPassword},
		{"POST /users/{name}/delete", Admin, s.deleteUser},
	} {
		mux.Handle(rt.pattern, s.require(rt.role, rt.h))
	}
	return mux
}

// require resolves the session and refuses requests below role: a
// request without a session is sent to the login page (a page) or refused
// with 401 (an action); a user without the role gets 403. A POST must
// carry the session's CSRF token.
func (s *Server) require(role Role, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, err := s.session(r)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		if ss == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		if ss.Role < role {
			s.log.Warn("forbidden", "user", ss.User, "role", ss.Role.String(), "need", role.String(),
				"method", r.Method, "path", r.URL.Path)
			s.errorPage(w, r, ss, http.StatusForbidden, "Your role ("+ss.Role.String()+") may not do this; it needs "+role.String()+".")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			tok := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(tok), []byte(ss.CSRF)) != 1 {
				s.log.Warn("bad form token", "user", ss.User, "path", r.URL.Path, "client", s.clientAddr(r))
				http.Error(w, "form expired or forged: reload the page", http.StatusForbidden)
				return
			}
		}
		h(w, r, ss)
	})
}

// session returns the signed-in user of r: a trusted proxy's header, or
// the session cookie. nil when there is none.
func (s *Server) session(r *http.Request) (*session, error) {
	if hdr := s.cfg.ProxyUserHeader; hdr != "" && s.fromProxy(r) {
		if name := r.Header.Get(hdr); name != "" {
			u, err := s.users.Get(r.Context(), name)
			if err != nil {
				s.log.Warn("proxy user is not a console user", "user", truncate(name, 64))
				return nil, nil
			}
			return &session{User: u.Name, Role: u.Role, CSRF: s.proxyCSRF(u.Name), Proxy: true}, nil
		}
	}
	c, err := r.Cookie(s.cookieName(r))
	if err != nil {
		return nil, nil
	}
	return s.sessions.lookup(r.Context(), c.Value)
}

func (s *Server) actor(r *http.Request, ss *session) store.Actor {
	return store.Actor{Name: ss.User, Addr: s.clientAddr(r)}
}

type loginData struct {
	Next  string
	Error string
	Name  string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if ss, _ := s.session(r); ss != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", "Sign in", nil, loginData{Next: localPath(r.URL.Query().Get("next"))})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw := r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	addr := s.clientAddr(r)
	data := loginData{Next: next, Name: truncate(name, 64)}
	// A user name has at most 64 characters: a longer typed name keys the
	// throttle by its first 65, so that huge names cannot grow its table.
	userKey := "user:" + truncate(name, 65)
	if !s.throttle.try("addr:"+addr, userKey) {
		s.log.Warn("login throttled", "client", addr)
		data.Error = "Too many failed sign-ins. Wait a few minutes and try again."
		s.render(w, r, http.StatusTooManyRequests, "login", "Sign in", nil, data)
		return
	}
	u, ok, err := s.users.Authenticate(r.Context(), name, pw)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	if !ok {
		// The typed name is logged only when it is a user's: a password
		// typed into the name field must not reach the audit log.
		actor := "-"
		if u.Name != "" {
			actor = u.Name
		}
		s.audit(r.Context(), store.Event{Actor: actor, SourceAddr: addr, Kind: KindLoginFailed})
		data.Error = "Wrong user name or password."
		s.render(w, r, http.StatusUnauthorized, "login", "Sign in", nil, data)
		return
	}
	s.throttle.succeed(userKey, "addr:"+addr)
	tok, err := s.sessions.create(r.Context(), u.Name, addr)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	s.audit(r.Context(), store.Event{Actor: u.Name, SourceAddr: addr, Kind: KindLogin})
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: tok, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.SessionLifetime.D() / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, ss *session) {
	if c, err := r.Cookie(s.cookieName(r)); err == nil {
		s.sessions.delete(r.Context(), c.Value)
	}
	s.audit(r.Context(), store.Event{Actor: ss.User, SourceAddr: s.clientAddr(r), Kind: KindLogout})
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: "", Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// audit appends an event that belongs to no other change.
func (s *Server) audit(ctx context.Context, e store.Event) {
	err := s.st.Tx(ctx, func(tx *sql.Tx) error { return s.st.AppendEvent(ctx, tx, e) })
	if err != nil {
		s.log.Error("audit event", "kind", e.Kind, "err", err)
	}
}

// localPath returns p when it is a path on this site, else "/": a login
// link must not send the user elsewhere.
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return "/"
	}
	if u, err := url.Parse(p); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
