package quarantine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/maildlp/maildlp/store"
)

// Store is what the workflow needs of the incident store
// (*store.Store implements it).
type Store interface {
	ClaimRequests(ctx context.Context, node string, limit int) ([]store.Request, error)
	FinishRequest(ctx context.Context, id int64, ok bool, result string, who store.Actor) error
	PutHeld(ctx context.Context, h store.Held, kind string, who store.Actor, reason string) error
	GetHeld(ctx context.Context, mtaHost, queueID string) (store.Held, error)
	ListHeld(ctx context.Context, f store.HeldFilter) ([]store.Held, error)
	IncidentForQueue(ctx context.Context, mtaHost, queueID string) (string, error)
	Unclaim(ctx context.Context, node string, claimedBefore time.Time, who store.Actor) (int, error)
}

// Event kinds the workflow appends (besides the store's own
// <kind>_requested, <kind>_done and <kind>_failed of requests).
const (
	KindHeld     = "held"     // found in the hold queue (linked or not)
	KindLinked   = "linked"   // a held message linked to its incident later
	KindReleased = "released" // released by a request
	KindDeleted  = "deleted"  // deleted by a request
	KindGone     = "gone"     // left the hold queue without a request
)

// Worker executes the release and delete requests addressed to its node,
// for messages of its own MTA host only, and reconciles the store with
// the hold queue.
type Worker struct {
	Store   Store
	MTA     MTA
	Node    string // this maildlp node (store.node)
	MTAHost string // the MTA next to it (store.mta_host)
	// Timeout bounds each MTA operation; default 30s.
	Timeout time.Duration
	// HoldKey verifies hold marks (the hop's), to link messages held by
	// the downstream Postfix to their incidents; nil skips them.
	HoldKey []byte
	Log     *slog.Logger
	// Now is the clock of the figures in results; nil is time.Now.
	Now func() time.Time
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

func (w *Worker) actor() store.Actor { return store.Actor{Name: "maildlp@" + w.Node} }

func (w *Worker) timeout() time.Duration {
	if w.Timeout > 0 {
		return w.Timeout
	}
	return 30 * time.Second
}

// RunOnce claims the pending requests of the node and executes them, in
// the order they were made. It returns how many it executed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	reqs, err := w.Store.ClaimRequests(ctx, w.Node, 100)
	if err != nil {
		return 0, err
	}
	for _, r := range reqs {
		w.execute(ctx, r)
	}
	return len(reqs), nil
}

// execute carries out one claimed request and records its result. A
// request for another MTA host fails without touching anything: only the
// node next to an MTA acts on its queue.
func (w *Worker) execute(ctx context.Context, r store.Request) {
	log := w.log().With("request_id", r.ID, "kind", r.Kind, "mta_host", r.MTAHost, "queue_id", r.QueueID, "actor", r.Actor)
	finish := func(ok bool, result string) {
		// The result must be recorded even when ctx ends (shutdown).
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := w.Store.FinishRequest(fctx, r.ID, ok, result, w.actor()); err != nil {
			log.Error("record request result", "result", result, "err", err)
		}
	}
	if r.MTAHost != w.MTAHost {
		log.Warn("request for another MTA host: not executed", "own_mta_host", w.MTAHost)
		finish(false, fmt.Sprintf("not executed: node %s serves MTA host %s, not %s", w.Node, w.MTAHost, r.MTAHost))
		return
	}
	if !ValidQueueID(r.QueueID) {
		finish(false, fmt.Sprintf("not executed: %q is not a queue id", r.QueueID))
		return
	}
	octx, cancel := context.WithTimeout(ctx, w.timeout())
	defer cancel()
	start := time.Now()
	var err error
	var ok bool
	var state, kind string
	switch r.Kind {
	case store.RequestRelease:
		err = w.MTA.Release(octx, r.QueueID)
		ok, state, kind = Released(err), store.HeldReleased, KindReleased
	case store.RequestDelete:
		err = w.MTA.Delete(octx, r.QueueID)
		ok, state, kind = err == nil, store.HeldDeleted, KindDeleted
	default:
		finish(false, fmt.Sprintf("not executed: unknown request kind %q", r.Kind))
		return
	}
	took := time.Since(start).Round(time.Millisecond)
	result := fmt.Sprintf("%s by %s %s in %s", kind, w.MTA.Kind(), w.MTAHost, took)
	if err != nil {
		result = err.Error()
		if ok {
			result = fmt.Sprintf("%s by %s %s in %s (%v)", kind, w.MTA.Kind(), w.MTAHost, took, err)
		}
	}
	if ok {
		h := store.Held{MTAHost: r.MTAHost, QueueID: r.QueueID, Node: w.Node, State: state}
		if old, gerr := w.Store.GetHeld(ctx, r.MTAHost, r.QueueID); gerr == nil {
			h.HeldAt, h.IncidentID = old.HeldAt, old.IncidentID
		}
		if perr := w.Store.PutHeld(ctx, h, kind, store.Actor{Name: r.Actor, Addr: r.SourceAddr}, r.Reason); perr != nil {
			log.Error("record held message state", "state", state, "err", perr)
		}
		log.Info("quarantine request executed", "result", result)
	} else {
		log.Warn("quarantine request failed", "err", err)
		if errors.Is(err, ErrNotHeld) {
			w.markGone(ctx, r.MTAHost, r.QueueID, "not in the hold queue when request "+fmt.Sprint(r.ID)+" ran")
		}
	}
	finish(ok, result)
}

// markGone records that a message the store thinks held is not in the
// hold queue (released or deleted by hand, delivered, expired).
func (w *Worker) markGone(ctx context.Context, mtaHost, queueID, reason string) {
	old, err := w.Store.GetHeld(ctx, mtaHost, queueID)
	if err != nil || old.State != store.HeldHeld {
		return
	}
	old.State, old.Node = store.HeldGone, w.Node
	if err := w.Store.PutHeld(ctx, old, KindGone, w.actor(), reason); err != nil {
		w.log().Error("record held message gone", "queue_id", queueID, "err", err)
	}
}

// Run executes requests every poll and reconciles the store with the
// hold queue every syncEvery (0: never) until ctx ends. Failures are
// logged and retried at the next tick: the store or the MTA being away
// for a while costs delay, never a request.
func (w *Worker) Run(ctx context.Context, poll, syncEvery time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	// Claims left by this node's previous worker (a crash between claim
	// and result) are this worker's to finish.
	started := time.Now()
	for ctx.Err() == nil {
		n, err := w.Store.Unclaim(ctx, w.Node, started, w.actor())
		if err == nil {
			if n > 0 {
				w.log().Warn("requests claimed before a restart requeued", "count", n)
			}
			break
		}
		w.log().Warn("requeue claimed requests", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	var lastSync time.Time
	for {
		if syncEvery > 0 && time.Since(lastSync) >= syncEvery {
			if rep, err := w.Sync(ctx); err != nil {
				w.log().Warn("quarantine sync failed", "err", err)
			} else if rep.Changed() {
				w.log().Info("quarantine sync", "added", rep.Added, "linked", rep.Linked, "gone", rep.Gone, "held", rep.Held)
			}
			lastSync = time.Now()
		}
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.log().Warn("claim quarantine requests", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
