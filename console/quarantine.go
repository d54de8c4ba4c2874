package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/maildlp/maildlp/store"
)

type quarantineData struct {
	Held     []store.Held
	Requests []store.Request
	Age      string // the age bucket shown, "" for all
	AgeLabel string
	State    string // request state filter
	Failed   int    // failed requests among those shown
	Total    int64  // messages held across every node
	Next     string // next page of held messages
}

// heldPageSize is the number of held messages on a quarantine page.
const heldPageSize = 100

// quarantinePage lists the messages held across every node, with their
// age and state, and the release and delete requests with their results.
// A failed request is shown as failed, with the reason the node gave.
func (s *Server) quarantinePage(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	v := r.URL.Query()
	d := quarantineData{State: v.Get("state")}
	switch d.State {
	case "", store.RequestPending, store.RequestClaimed, store.RequestDone, store.RequestFailed:
	default:
		s.badRequest(w, r, ss, "Unknown request state.")
		return
	}
	hf := heldFilter{Node: v.Get("node"), After: v.Get("after"), Limit: heldPageSize, Now: s.now()}
	if a := v.Get("age"); a != "" {
		i, err := strconv.Atoi(a)
		if err != nil || i < 0 || i >= len(heldAges) {
			s.badRequest(w, r, ss, "Unknown age.")
			return
		}
		d.Age, d.AgeLabel = a, heldAges[i].Label
		if i > 0 {
			hf.Min = heldAges[i-1].Upto
		}
		hf.Max = heldAges[i].Upto
	}
	held, next, err := s.heldPage(ctx, hf)
	if errors.Is(err, errBadCursor) {
		s.badRequest(w, r, ss, "Invalid page link.")
		return
	}
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	if next != "" {
		nq := url.Values{"after": {next}}
		for _, k := range []string{"age", "node"} {
			if x := v.Get(k); x != "" {
				nq.Set(k, x)
			}
		}
		d.Next = "/quarantine?" + nq.Encode()
	}
	if d.Total, err = s.countHeld(ctx); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	d.Held = held
	if d.Requests, err = s.requests(ctx, requestFilter{State: d.State, Limit: 100}); err != nil {
		s.fail(w, r, ss, err)
		return
	}
	for _, q := range d.Requests {
		if q.State == store.RequestFailed {
			d.Failed++
		}
	}
	s.render(w, r, http.StatusOK, "quarantine", "Quarantine", ss, d)
}
