package console

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maildlp/maildlp/store"
)

// filterKeys are the query parameters of the incident list, in form order.
var filterKeys = []string{"since", "until", "last", "policy", "severity", "action", "status", "sender", "rcpt_domain", "node", "assignee"}

// lastPresets are the "last" choices of the time filter.
var lastPresets = []struct{ Key, Label string }{{"", "any time"}, {"24h", "last 24 hours"}, {"7d", "last 7 days"}, {"30d", "last 30 days"}}

// parseFilter reads the list's filter from a query. Times are UTC dates
// (2026-12-01) or date-times (2026-12-01T14:30).
func parseFilter(v url.Values, now time.Time) (store.Filter, error) {
	f := store.Filter{
		Policy:          v.Get("policy"),
		Severity:        v.Get("severity"),
		Action:          v.Get("action"),
		Sender:          v.Get("sender"),
		RecipientDomain: strings.TrimPrefix(v.Get("rcpt_domain"), "@"),
		Node:            v.Get("node"),
		Assignee:        v.Get("assignee"),
	}
	if st := v.Get("status"); st != "" {
		s, err := store.ParseStatus(st)
		if err != nil {
			return f, err
		}
		f.Status = s
	}
	var err error
	if f.Since, err = parseWhen(v.Get("since")); err != nil {
		return f, err
	}
	if f.Until, err = parseWhen(v.Get("until")); err != nil {
		return f, err
	}
	switch v.Get("last") {
	case "":
	case "24h":
		f.Since = now.Add(-24 * time.Hour)
	case "7d":
		f.Since = now.AddDate(0, 0, -7)
	case "30d":
		f.Since = now.AddDate(0, 0, -30)
	default:
		return f, fmt.Errorf("unknown period %q", v.Get("last"))
	}
	return f, nil
}

func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q (want 2026-12-01 or 2026-12-01T14:30)", s)
}

// filterQuery is the list's query without the page cursor: what a saved
// view stores and what the next-page link extends.
func filterQuery(v url.Values) url.Values {
	out := url.Values{}
	for _, k := range filterKeys {
		if x := v.Get(k); x != "" {
			out.Set(k, x)
		}
	}
	return out
}

type listData struct {
	Q         map[string]string // the filter form's values
	Query     string            // the filter as a query string
	Back      string            // this list's URL without the cursor
	Incidents []store.Incident
	Next      string // next page's URL, "" on the last page
	First     string // first page's URL, "" on the first page
	Views     []savedView
	Presets   []struct{ Key, Label string }
	Actions   map[string]string
	Took      time.Duration
}

func (s *Server) incidentList(w http.ResponseWriter, r *http.Request, ss *session) {
	v := r.URL.Query()
	f, err := parseFilter(v, s.now())
	if err != nil {
		s.badRequest(w, r, ss, err.Error())
		return
	}
	start := time.Now()
	ins, next, err := s.st.List(r.Context(), f, store.Page{After: v.Get("after"), Limit: s.cfg.PageSize})
	if err != nil {
		if strings.Contains(err.Error(), "bad cursor") {
			s.badRequest(w, r, ss, "Invalid page link.")
			return
		}
		s.fail(w, r, ss, err)
		return
	}
	fq := filterQuery(v)
	d := listData{Q: map[string]string{}, Query: fq.Encode(), Incidents: ins, Presets: lastPresets,
		Actions: actionLabels, Took: time.Since(start)}
	for _, k := range filterKeys {
		d.Q[k] = fq.Get(k)
	}
	d.Back = "/incidents?" + d.Query
	if next != "" {
		nq := filterQuery(v)
		nq.Set("after", next)
		d.Next = "/incidents?" + nq.Encode()
	}
	if v.Get("after") != "" {
		d.First = "/incidents?" + fq.Encode()
	}
	if d.Views, err = s.views(r.Context(), ss.User); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	s.render(w, r, http.StatusOK, "incidents", "Incidents", ss, d)
}

// MaxBulk bounds the incidents one bulk change touches.
const MaxBulk = 500

func (s *Server) bulkStatus(w http.ResponseWriter, r *http.Request, ss *session) {
	st, err := store.ParseStatus(r.PostFormValue("status"))
	if err != nil {
		s.badRequest(w, r, ss, "Choose a status.")
		return
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		s.badRequest(w, r, ss, "Select at least one incident.")
		return
	}
	if len(ids) > MaxBulk {
		s.badRequest(w, r, ss, fmt.Sprintf("At most %d incidents at once.", MaxBulk))
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	for _, id := range ids {
		if err := s.st.SetStatus(r.Context(), id, st, s.actor(r, ss), reason); err != nil {
			s.fail(w, r, ss, err)
			return
		}
	}
	back := localPath(r.PostFormValue("back"))
	if !strings.HasPrefix(back, "/incidents") {
		back = "/incidents"
	}
	http.Redirect(w, r, withOK(back, "bulk"), http.StatusSeeOther)
}

// withOK adds the flash code to a local URL.
func withOK(p, code string) string {
	u, _ := url.Parse(p)
	v := u.Query()
	v.Set("ok", code)
	u.RawQuery = v.Encode()
	return u.RequestURI()
}

type savedView struct {
	ID    int64
	Name  string
	Query string
}

// URL is the view's list page. A whole URL, because html/template
// escapes a value put after the "?" of an href as one query component.
func (v savedView) URL() string { return "/incidents?" + v.Query }

// MaxViews bounds the saved views of one user.
const MaxViews = 50

func (s *Server) views(ctx context.Context, user string) ([]savedView, error) {
	rows, err := s.st.DB().QueryContext(ctx, q(s.st, `SELECT id, name, query FROM console_views WHERE username = ? ORDER BY name LIMIT ?`), user, MaxViews)
	if err != nil {
		return nil, fmt.Errorf("console: saved views: %w", err)
	}
	defer rows.Close()
	var out []savedView
	for rows.Next() {
		var v savedView
		if err := rows.Scan(&v.ID, &v.Name, &v.Query); err != nil {
			return nil, fmt.Errorf("console: saved views: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Server) saveView(w http.ResponseWriter, r *http.Request, ss *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 80 {
		s.badRequest(w, r, ss, "A view needs a name of at most 80 characters.")
		return
	}
	v, err := url.ParseQuery(r.PostFormValue("query"))
	if err != nil {
		s.badRequest(w, r, ss, "Invalid filter.")
		return
	}
	if _, err := parseFilter(v, s.now()); err != nil {
		s.badRequest(w, r, ss, err.Error())
		return
	}
	query := filterQuery(v).Encode()
	have, err := s.views(r.Context(), ss.User)
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	if len(have) >= MaxViews {
		s.badRequest(w, r, ss, fmt.Sprintf("At most %d saved views.", MaxViews))
		return
	}
	err = s.st.Tx(r.Context(), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(r.Context(), q(s.st, `DELETE FROM console_views WHERE username = ? AND name = ?`), ss.User, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(r.Context(), q(s.st, `INSERT INTO console_views (username, name, query, created_us) VALUES (?,?,?,?)`),
			ss.User, name, query, s.now().UnixMicro())
		return err
	})
	if err != nil {
		s.fail(w, r, ss, fmt.Errorf("console: save view: %w", err))
		return
	}
	http.Redirect(w, r, withOK("/incidents?"+query, "view"), http.StatusSeeOther)
}

func (s *Server) deleteView(w http.ResponseWriter, r *http.Request, ss *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.badRequest(w, r, ss, "Invalid view.")
		return
	}
	res, err := s.st.DB().ExecContext(r.Context(), q(s.st, `DELETE FROM console_views WHERE id = ? AND username = ?`), id, ss.User)
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		s.fail(w, r, ss, fmt.Errorf("view %d: %w", id, store.ErrNotFound))
		return
	}
	http.Redirect(w, r, withOK("/incidents", "unview"), http.StatusSeeOther)
}
