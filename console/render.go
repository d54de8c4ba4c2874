package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maildlp/maildlp/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticHandler serves the embedded style sheet; it may be cached.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// pages holds one template set per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"age":   age,
	"join":  strings.Join,
	"lower": strings.ToLower,
	"label": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return strconv.FormatInt(n, 10) + " B"
	},
	"pathesc":  url.PathEscape,
	"queryesc": url.QueryEscape,
	"can": func(ss *session, role string) bool {
		r, _ := ParseRole(role)
		return ss != nil && ss.Role >= r
	},
	"statuses": func() []store.Status { return store.Statuses },
	"roles":    func() []Role { return []Role{Viewer, Analyst, Admin} },
	"sevs":     func() []string { return severities },
	"ages": func() []string {
		out := make([]string, len(heldAges))
		for i, b := range heldAges {
			out[i] = b.Label
		}
		return out
	},
	"acts": func() []string { return actionOrder },
}

func loadPages() (*pages, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what the layout of every page gets.
type view struct {
	Title   string
	Nav     string
	Session *session
	CSRF    string
	Flash   string
	Data    any
}

// render writes page name. The page is rendered into a buffer first, so
// that a template error is a 500 and not half a page, and the server time
// is known for the Server-Timing header.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, ss *session, data any) {
	start := time.Now()
	t := s.pages.byName[name]
	v := view{Title: title, Nav: name, Session: ss, Data: data, Flash: flashes[r.URL.Query().Get("ok")]}
	if ss != nil {
		v.CSRF = ss.CSRF
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Server-Timing", fmt.Sprintf("render;dur=%.1f", float64(time.Since(start).Microseconds())/1000))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// flashes are the messages a redirect after an action may show, named by
// a code in the URL (never free text from the request).
var flashes = map[string]string{
	"status":   "Status changed.",
	"bulk":     "Status changed for the selected incidents.",
	"assign":   "Assignee changed.",
	"note":     "Note added.",
	"release":  "Release requested: the node that holds the message will release it; the result appears below.",
	"delete":   "Deletion requested: the node that holds the message will delete it; the result appears below.",
	"view":     "View saved.",
	"unview":   "View deleted.",
	"useradd":  "User added.",
	"userdel":  "User deleted.",
	"role":     "Role changed; the user's sessions were ended.",
	"password": "Password changed; the user's sessions were ended.",
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, ss *session, status int, msg string) {
	s.render(w, r, status, "error", http.StatusText(status), ss, msg)
}

// fail answers an error: not found for a missing record, 500 (logged,
// not shown) for anything else.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, ss *session, err error) {
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, ss, http.StatusNotFound, "Not found.")
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.errorPage(w, r, ss, http.StatusInternalServerError, "Internal error; it has been logged.")
}

// badRequest answers a form that cannot be acted on, with a message for
// the user.
func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, ss *session, msg string) {
	s.errorPage(w, r, ss, http.StatusBadRequest, msg)
}

func age(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}
