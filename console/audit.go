package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/maildlp/maildlp/store"
)

type auditData struct {
	Events []store.Event
	Actor  string
	Kind   string
	Next   string
}

// auditPageSize is the number of events on an audit page.
const auditPageSize = 100

// auditPage shows the store's append-only event log, newest first:
// every status change, note, release and delete request and result,
// login and user change, with who, when and from where.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, ss *session) {
	v := r.URL.Query()
	d := auditData{Actor: v.Get("actor"), Kind: v.Get("kind")}
	where, args := "1 = 1", []any{}
	if d.Actor != "" {
		where += " AND actor = ?"
		args = append(args, d.Actor)
	}
	if d.Kind != "" {
		where += " AND kind = ?"
		args = append(args, d.Kind)
	}
	if b := v.Get("before"); b != "" {
		id, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			s.badRequest(w, r, ss, "Invalid page link.")
			return
		}
		where += " AND id < ?"
		args = append(args, id)
	}
	args = append(args, auditPageSize+1)
	rows, err := s.st.DB().QueryContext(r.Context(), q(s.st, `SELECT id, time_us, incident_id, mta_host, queue_id,
		request_id, actor, source_addr, kind, before_value, after_value, reason FROM events WHERE `+where+`
		ORDER BY id DESC LIMIT ?`), args...)
	if err != nil {
		s.fail(w, r, ss, fmt.Errorf("console: audit log: %w", err))
		return
	}
	defer rows.Close()
	for rows.Next() {
		var e store.Event
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.IncidentID, &e.MTAHost, &e.QueueID, &e.RequestID, &e.Actor,
			&e.SourceAddr, &e.Kind, &e.Before, &e.After, &e.Reason); err != nil {
			s.fail(w, r, ss, fmt.Errorf("console: audit log: %w", err))
			return
		}
		e.Time = micro(t)
		d.Events = append(d.Events, e)
	}
	if err := rows.Err(); err != nil {
		s.fail(w, r, ss, fmt.Errorf("console: audit log: %w", err))
		return
	}
	if len(d.Events) > auditPageSize {
		d.Events = d.Events[:auditPageSize]
		nq := url.Values{}
		for _, k := range []string{"actor", "kind"} {
			if x := v.Get(k); x != "" {
				nq.Set(k, x)
			}
		}
		nq.Set("before", strconv.FormatInt(d.Events[len(d.Events)-1].ID, 10))
		d.Next = "/audit?" + nq.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", "Audit log", ss, d)
}
