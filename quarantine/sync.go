package quarantine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/maildlp/maildlp/quarantine/holdmark"
	"github.com/maildlp/maildlp/store"
)

// SyncReport says what a reconciliation changed.
type SyncReport struct {
	Held     int // messages in the hold queue
	Added    int // held messages the store did not know (linked or not)
	Linked   int // held messages linked to their incident in this run
	Unlinked int // held messages with no incident found
	Gone     int // store entries no longer in the hold queue
}

// Changed reports whether the run changed the store.
func (r SyncReport) Changed() bool { return r.Added+r.Linked+r.Gone > 0 }

// HoldMarkReader is an MTA that can show a held message's hold mark
// field value ("" when it has none).
type HoldMarkReader interface {
	HoldMark(ctx context.Context, queueID string) (string, error)
}

// Sync reconciles the store with the hold queue of the node's MTA: held
// messages the store does not know are added (linked to their incident
// when one names their queue id, or when their hold mark verifies;
// otherwise unlinked), held entries whose message left the queue are
// marked gone, and unlinked entries are linked when their incident has
// arrived since. A hold queue listing that fails changes nothing.
func (w *Worker) Sync(ctx context.Context) (SyncReport, error) {
	var rep SyncReport
	octx, cancel := context.WithTimeout(ctx, w.timeout())
	held, err := w.MTA.Held(octx)
	cancel()
	if err != nil {
		return rep, fmt.Errorf("quarantine sync: %w", err)
	}
	rep.Held = len(held)
	known, err := w.Store.ListHeld(ctx, store.HeldFilter{MTAHost: w.MTAHost, State: store.HeldHeld, Limit: 1 << 30})
	if err != nil {
		return rep, fmt.Errorf("quarantine sync: %w", err)
	}
	stored := make(map[string]store.Held, len(known))
	for _, h := range known {
		stored[h.QueueID] = h
	}
	inQueue := make(map[string]bool, len(held))
	for _, m := range held {
		inQueue[m.QueueID] = true
		h, ok := stored[m.QueueID]
		if ok && h.IncidentID != "" {
			continue
		}
		// The hold mark never changes: it is read once, when the message is
		// first seen. An incident naming the queue id may arrive later.
		inc, why := w.link(ctx, m.QueueID, !ok)
		switch {
		case ok && inc == "":
			continue // still unlinked
		case ok:
			h.IncidentID, h.Node = inc, w.Node
			if err := w.Store.PutHeld(ctx, h, KindLinked, w.actor(), why); err != nil {
				return rep, fmt.Errorf("quarantine sync: %w", err)
			}
			rep.Linked++
			continue
		}
		// A message released or deleted earlier and back in the hold
		// queue keeps its row; its state becomes held again.
		nh := store.Held{MTAHost: w.MTAHost, QueueID: m.QueueID, IncidentID: inc, Node: w.Node,
			State: store.HeldHeld, HeldAt: m.Arrival}
		if err := w.Store.PutHeld(ctx, nh, KindHeld, w.actor(), why); err != nil {
			return rep, fmt.Errorf("quarantine sync: %w", err)
		}
		rep.Added++
		if inc != "" {
			rep.Linked++
		} else {
			rep.Unlinked++
		}
	}
	for _, h := range known {
		if inQueue[h.QueueID] {
			continue
		}
		h.State, h.Node = store.HeldGone, w.Node
		if err := w.Store.PutHeld(ctx, h, KindGone, w.actor(), "no longer in the hold queue"); err != nil {
			return rep, fmt.Errorf("quarantine sync: %w", err)
		}
		rep.Gone++
	}
	return rep, nil
}

// link finds the incident of a held message, and says how (the event's
// reason).
func (w *Worker) link(ctx context.Context, queueID string, readMark bool) (string, string) {
	inc, err := w.Store.IncidentForQueue(ctx, w.MTAHost, queueID)
	if err == nil {
		return inc, "found in the hold queue; incident " + inc + " names its queue id"
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", "found in the hold queue; incident lookup failed: " + err.Error()
	}
	r, ok := w.MTA.(HoldMarkReader)
	if !ok || len(w.HoldKey) == 0 || !readMark {
		return "", "found in the hold queue; no incident names its queue id"
	}
	octx, cancel := context.WithTimeout(ctx, w.timeout())
	defer cancel()
	v, err := r.HoldMark(octx, queueID)
	switch {
	case err != nil:
		return "", "found in the hold queue; reading its hold mark failed: " + err.Error()
	case v == "":
		return "", "found in the hold queue; no incident names its queue id and it has no hold mark"
	}
	m, err := holdmark.Parse(w.HoldKey, v)
	if err != nil {
		return "", "found in the hold queue; its hold mark does not verify (" + err.Error() + ")"
	}
	return m.IncidentID, "found in the hold queue; hold mark of the hop names incident " + m.IncidentID
}

// HoldMark reads the hold mark of a queued message (postcat -h -q).
func (p *Postfix) HoldMark(ctx context.Context, queueID string) (string, error) {
	if !ValidQueueID(queueID) {
		return "", fmt.Errorf("%w %q", ErrQueueID, queueID)
	}
	out, err := p.run(ctx, "postcat", "-h", "-q", queueID)
	if err != nil {
		return "", err
	}
	return holdMarkIn(out), nil
}

// holdMarkIn returns the value of the first hold mark field of a header
// section ("" when none); folded continuation lines are joined.
func holdMarkIn(header []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(header))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	prefix := strings.ToLower(holdmark.Header) + ":"
	var val []string
	for sc.Scan() {
		line := sc.Text()
		if val != nil {
			if line != "" && (line[0] == ' ' || line[0] == '\t') {
				val = append(val, strings.TrimSpace(line))
				continue
			}
			break
		}
		if len(line) > len(prefix) && strings.ToLower(line[:len(prefix)]) == prefix {
			val = []string{strings.TrimSpace(line[len(prefix):])}
		}
	}
	return strings.Join(val, " ")
}
