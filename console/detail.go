package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/maildlp/maildlp/store"
)

type detailData struct {
	In       store.Incident
	Extra    []kv // the rest of the decision, flattened
	Held     *store.Held
	Requests []store.Request
	Events   []store.Event
	Notes    []store.Event
	Users    []User
	Actions  map[string]string
}

type kv struct{ Key, Value string }

func (s *Server) incidentDetail(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	in, err := s.st.Get(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	d := detailData{In: in, Extra: flatten(in.Extra), Actions: actionLabels}
	if in.QueueID != "" {
		h, err := s.st.GetHeld(ctx, in.MTAHost, in.QueueID)
		switch {
		case err == nil:
			d.Held = &h
			if d.Requests, err = s.st.Requests(ctx, store.RequestFilter{MTAHost: in.MTAHost, QueueID: in.QueueID, Limit: 100}); err != nil {
				s.fail(w, r, ss, err)
				return
			}
		case !errors.Is(err, store.ErrNotFound):
			s.fail(w, r, ss, err)
			return
		}
	}
	evs, err := s.st.Events(ctx, store.EventFilter{IncidentID: in.ID, Limit: 500})
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	d.Events = evs
	for _, e := range evs {
		if e.Kind == store.KindNote {
			d.Notes = append(d.Notes, e)
		}
	}
	if ss.Role >= Analyst {
		if d.Users, err = s.users.List(ctx); err != nil {
			s.fail(w, r, ss, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "incident", "Incident "+in.ID, ss, d)
}

// flatten turns the incident's extra JSON (reply, quarantine reason,
// notices, explain trace ...) into sorted key/value rows; nested values
// are shown as indented JSON.
func flatten(raw json.RawMessage) []kv {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return []kv{{"extra", string(raw)}}
	}
	var out []kv
	for k, v := range m {
		var str string
		if json.Unmarshal(v, &str) != nil {
			var b bytes.Buffer
			if json.Indent(&b, v, "", "  ") == nil {
				str = b.String()
			} else {
				str = string(v)
			}
		}
		out = append(out, kv{k, str})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Key < out[j-1].Key; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func incidentURL(id, ok string) string {
	return withOK("/incidents/"+url.PathEscape(id), ok)
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	st, err := store.ParseStatus(r.PostFormValue("status"))
	if err != nil {
		s.badRequest(w, r, ss, "Choose a status.")
		return
	}
	if err := s.st.SetStatus(r.Context(), id, st, s.actor(r, ss), strings.TrimSpace(r.PostFormValue("reason"))); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	http.Redirect(w, r, incidentURL(id, "status"), http.StatusSeeOther)
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	who := r.PostFormValue("assignee")
	if who != "" {
		if _, err := s.users.Get(r.Context(), who); err != nil {
			s.badRequest(w, r, ss, "No such user.")
			return
		}
	}
	if err := s.st.Assign(r.Context(), id, who, s.actor(r, ss), ""); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	http.Redirect(w, r, incidentURL(id, "assign"), http.StatusSeeOther)
}

// MaxNote bounds a note's length.
const MaxNote = 4000

func (s *Server) note(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text == "" || len(text) > MaxNote {
		s.badRequest(w, r, ss, "A note needs text (at most 4000 characters).")
		return
	}
	if err := s.st.Note(r.Context(), id, text, s.actor(r, ss)); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	http.Redirect(w, r, incidentURL(id, "note"), http.StatusSeeOther)
}

// requestHeld asks the node that holds a message to release or delete
// it: a request row, executed there, its result shown on the incident and
// quarantine pages. A reason is required.
func (s *Server) requestHeld(w http.ResponseWriter, r *http.Request, ss *session) {
	kind := store.RequestRelease
	if strings.HasSuffix(r.URL.Path, "/delete") {
		kind = store.RequestDelete
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" || len(reason) > 1000 {
		s.badRequest(w, r, ss, "A "+kind+" needs a reason (at most 1000 characters).")
		return
	}
	h, err := s.st.GetHeld(r.Context(), r.PathValue("host"), r.PathValue("queue"))
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	if h.State != store.HeldHeld {
		s.badRequest(w, r, ss, "The message is no longer held ("+h.State+").")
		return
	}
	asked, err := s.st.Requests(r.Context(), store.RequestFilter{MTAHost: h.MTAHost, QueueID: h.QueueID})
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	for _, q := range asked {
		if q.State == store.RequestPending || q.State == store.RequestClaimed {
			s.badRequest(w, r, ss, "A "+q.Kind+" of this message is already under way.")
			return
		}
	}
	a := s.actor(r, ss)
	if _, err := s.st.AddRequest(r.Context(), store.Request{Kind: kind, Node: h.Node, MTAHost: h.MTAHost,
		QueueID: h.QueueID, Reason: reason, Actor: a.Name, SourceAddr: a.Addr}); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	s.stats.invalidate()
	back := "/quarantine"
	if h.IncidentID != "" {
		back = "/incidents/" + url.PathEscape(h.IncidentID)
	}
	if p := localPath(r.PostFormValue("back")); p != "/" {
		back = p
	}
	http.Redirect(w, r, withOK(back, kind), http.StatusSeeOther)
}
