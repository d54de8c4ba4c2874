package console

import (
	"net/http"
	"strconv"
	"time"

	"github.com/maildlp/maildlp/store"
)

type quarantineData struct {
	Held     []store.Held
	Requests []store.Request
	Age      string // the age bucket shown, "" for all
	AgeLabel string
	State    string // request state filter
	Failed   int    // failed requests among those shown
}

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
	held, err := s.st.ListHeld(ctx, store.HeldFilter{State: store.HeldHeld, Node: v.Get("node"), Limit: 1000})
	if err != nil {
		s.fail(w, r, ss, err)
		return
	}
	if a := v.Get("age"); a != "" {
		i, err := strconv.Atoi(a)
		if err != nil || i < 0 || i >= len(heldAges) {
			s.badRequest(w, r, ss, "Unknown age.")
			return
		}
		d.Age, d.AgeLabel = a, heldAges[i].Label
		now := s.now()
		var lo time.Duration
		if i > 0 {
			lo = heldAges[i-1].Upto
		}
		hi := heldAges[i].Upto
		kept := held[:0]
		for _, h := range held {
			age := now.Sub(h.HeldAt)
			if age >= lo && (hi == 0 || age < hi) {
				kept = append(kept, h)
			}
		}
		held = kept
	}
	d.Held = held
	if d.Requests, err = s.requests(ctx, requestFilter{State: d.State, Limit: 200}); err != nil {
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
