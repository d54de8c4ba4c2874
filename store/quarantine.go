package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Held message states.
const (
	HeldHeld     = "held"     // in the MTA's hold queue
	HeldReleased = "released" // released, delivered from there on
	HeldDeleted  = "deleted"  // deleted from the hold queue
	HeldGone     = "gone"     // no longer in the hold queue, not by a request
)

// Held is a message held by an MTA, linked to its incident by
// (MTA host, queue id), unique across hosts.
type Held struct {
	MTAHost    string    `json:"mta_host"`
	QueueID    string    `json:"queue_id"`
	IncidentID string    `json:"incident_id,omitempty"`
	Node       string    `json:"node"` // the maildlp node next to that MTA
	State      string    `json:"state"`
	HeldAt     time.Time `json:"held_at"`
	Updated    time.Time `json:"updated"`
}

// Request kinds and states.
const (
	RequestRelease = "release"
	RequestDelete  = "delete"

	RequestPending = "pending"
	RequestClaimed = "claimed"
	RequestDone    = "done"
	RequestFailed  = "failed"
)

// Request is a release or delete asked for by someone; the node whose
// MTA holds the message claims and executes it.
type Request struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Node       string    `json:"node"`
	MTAHost    string    `json:"mta_host"`
	QueueID    string    `json:"queue_id"`
	Reason     string    `json:"reason"`
	Actor      string    `json:"actor"`
	SourceAddr string    `json:"source_addr,omitempty"`
	State      string    `json:"state"`
	Result     string    `json:"result,omitempty"`
	Created    time.Time `json:"created"`
	Claimed    time.Time `json:"claimed,omitzero"`
	Done       time.Time `json:"done,omitzero"`
}

// PutHeld records a held message (or updates its state and node when it
// is known) and appends an event of kind, in one transaction.
func (s *Store) PutHeld(ctx context.Context, h Held, kind string, who Actor, reason string) error {
	now := s.now()
	if h.HeldAt.IsZero() {
		h.HeldAt = now
	}
	if h.State == "" {
		h.State = HeldHeld
	}
	return s.Tx(ctx, func(tx *sql.Tx) error {
		before := ""
		err := tx.QueryRowContext(ctx, s.q(`SELECT state FROM quarantine WHERE mta_host = ? AND queue_id = ?`),
			h.MTAHost, h.QueueID).Scan(&before)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: held message: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO quarantine (mta_host, queue_id, incident_id, node, state, held_us, updated_us)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT (mta_host, queue_id) DO UPDATE SET state = excluded.state,
			node = excluded.node, updated_us = excluded.updated_us,
			incident_id = CASE WHEN excluded.incident_id = '' THEN quarantine.incident_id ELSE excluded.incident_id END`),
			texts(h.MTAHost, h.QueueID, h.IncidentID, h.Node, h.State, micros(h.HeldAt), micros(now))...); err != nil {
			return fmt.Errorf("store: held message: %w", err)
		}
		return s.AppendEvent(ctx, tx, Event{Time: now, IncidentID: h.IncidentID, MTAHost: h.MTAHost, QueueID: h.QueueID,
			Actor: who.Name, SourceAddr: who.Addr, Kind: kind, Before: before, After: h.State, Reason: reason})
	})
}

// GetHeld returns the held message (mtaHost, queueID).
func (s *Store) GetHeld(ctx context.Context, mtaHost, queueID string) (Held, error) {
	var h Held
	var t, u int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT mta_host, queue_id, incident_id, node, state, held_us, updated_us
		FROM quarantine WHERE mta_host = ? AND queue_id = ?`), mtaHost, queueID).
		Scan(&h.MTAHost, &h.QueueID, &h.IncidentID, &h.Node, &h.State, &t, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("held message %s/%s: %w", mtaHost, queueID, ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("store: held message: %w", err)
	}
	h.HeldAt, h.Updated = fromMicros(t), fromMicros(u)
	return h, nil
}

// HeldFilter selects held messages; empty fields match all.
type HeldFilter struct {
	State   string
	Node    string
	MTAHost string
	Limit   int // default 1000
}

// ListHeld returns held messages, oldest first.
func (s *Store) ListHeld(ctx context.Context, f HeldFilter) ([]Held, error) {
	where, args := "1 = 1", []any{}
	for _, c := range []struct{ col, v string }{{"state", f.State}, {"node", f.Node}, {"mta_host", f.MTAHost}} {
		if c.v != "" {
			where += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	args = append(args, f.Limit)
	return s.queryHeld(ctx, `WHERE `+where+` ORDER BY held_us, mta_host, queue_id LIMIT ?`, args...)
}

// queryHeld runs a query over the held messages; rest is its WHERE,
// ORDER and LIMIT clauses.
func (s *Store) queryHeld(ctx context.Context, rest string, args ...any) ([]Held, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT mta_host, queue_id, incident_id, node, state, held_us, updated_us
		FROM quarantine `+rest), args...)
	if err != nil {
		return nil, fmt.Errorf("store: held messages: %w", err)
	}
	defer rows.Close()
	var out []Held
	for rows.Next() {
		var h Held
		var t, u int64
		if err := rows.Scan(&h.MTAHost, &h.QueueID, &h.IncidentID, &h.Node, &h.State, &t, &u); err != nil {
			return nil, fmt.Errorf("store: held messages: %w", err)
		}
		h.HeldAt, h.Updated = fromMicros(t), fromMicros(u)
		out = append(out, h)
	}
	return out, rows.Err()
}

// AddRequest records a pending request and its event; it returns the id.
func (s *Store) AddRequest(ctx context.Context, r Request) (int64, error) {
	if r.Kind != RequestRelease && r.Kind != RequestDelete {
		return 0, fmt.Errorf("store: unknown request kind %q", r.Kind)
	}
	if r.Reason == "" {
		return 0, errors.New("store: a request needs a reason")
	}
	if r.Actor == "" || r.Node == "" || r.MTAHost == "" || r.QueueID == "" {
		return 0, errors.New("store: a request needs an actor, a node, an MTA host and a queue id")
	}
	now := s.now()
	var id int64
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO requests (kind, node, mta_host, queue_id, reason, actor,
			source_addr, state, created_us) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id`),
			texts(r.Kind, r.Node, r.MTAHost, r.QueueID, r.Reason, r.Actor, r.SourceAddr, RequestPending, micros(now))...).Scan(&id)
		if err != nil {
			return fmt.Errorf("store: add request: %w", err)
		}
		var inc string
		tx.QueryRowContext(ctx, s.q(`SELECT incident_id FROM quarantine WHERE mta_host = ? AND queue_id = ?`),
			r.MTAHost, r.QueueID).Scan(&inc) // no row: no incident to link
		return s.AppendEvent(ctx, tx, Event{Time: now, IncidentID: inc, MTAHost: r.MTAHost, QueueID: r.QueueID,
			RequestID: id, Actor: r.Actor, SourceAddr: r.SourceAddr, Kind: r.Kind + "_requested",
			After: RequestPending, Reason: r.Reason})
	})
	return id, err
}

const requestColumns = `id, kind, node, mta_host, queue_id, reason, actor, source_addr, state, result, created_us, claimed_us, done_us`

func scanRequest(r scanner) (Request, error) {
	var q Request
	var c, cl, d int64
	err := r.Scan(&q.ID, &q.Kind, &q.Node, &q.MTAHost, &q.QueueID, &q.Reason, &q.Actor, &q.SourceAddr, &q.State,
		&q.Result, &c, &cl, &d)
	q.Created, q.Claimed, q.Done = fromMicros(c), fromMicros(cl), fromMicros(d)
	return q, err
}

// GetRequest returns one request.
func (s *Store) GetRequest(ctx context.Context, id int64) (Request, error) {
	r, err := scanRequest(s.db.QueryRowContext(ctx, s.q(`SELECT `+requestColumns+` FROM requests WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("request %d: %w", id, ErrNotFound)
	}
	return r, err
}

// ClaimRequests marks up to limit pending requests of node as claimed and
// returns them, oldest first. Two callers never get the same request:
// PostgreSQL skips rows another transaction has locked (FOR UPDATE SKIP
// LOCKED); SQLite runs the claim in one write transaction.
func (s *Store) ClaimRequests(ctx context.Context, node string, limit int) ([]Request, error) {
	if limit <= 0 {
		limit = 100
	}
	now := micros(s.now())
	var out []Request
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		var rows *sql.Rows
		var err error
		if s.driver == Postgres {
			rows, err = tx.QueryContext(ctx, `UPDATE requests SET state = $1, claimed_us = $2 WHERE id IN (
				SELECT id FROM requests WHERE node = $3 AND state = $4 ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED)
				RETURNING `+requestColumns, RequestClaimed, now, node, RequestPending, limit)
		} else {
			rows, err = tx.QueryContext(ctx, `UPDATE requests SET state = ?, claimed_us = ? WHERE id IN (
				SELECT id FROM requests WHERE node = ? AND state = ? ORDER BY id LIMIT ?)
				RETURNING `+requestColumns, RequestClaimed, now, node, RequestPending, limit)
		}
		if err != nil {
			return fmt.Errorf("store: claim requests: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRequest(rows)
			if err != nil {
				return fmt.Errorf("store: claim requests: %w", err)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	// RETURNING gives no order guarantee.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, err
}

// FinishRequest records the result of a claimed request (ok: done, else
// failed) and its event, in one transaction. The held message's state is
// the caller's to set with [Store.PutHeld].
func (s *Store) FinishRequest(ctx context.Context, id int64, ok bool, result string, who Actor) error {
	state := RequestFailed
	if ok {
		state = RequestDone
	}
	now := s.now()
	return s.Tx(ctx, func(tx *sql.Tx) error {
		r, err := scanRequest(tx.QueryRowContext(ctx, s.q(`SELECT `+requestColumns+` FROM requests WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("request %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: finish request: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE requests SET state = ?, result = ?, done_us = ? WHERE id = ?`),
			texts(state, result, micros(now), id)...); err != nil {
			return fmt.Errorf("store: finish request: %w", err)
		}
		var inc string
		tx.QueryRowContext(ctx, s.q(`SELECT incident_id FROM quarantine WHERE mta_host = ? AND queue_id = ?`),
			r.MTAHost, r.QueueID).Scan(&inc)
		return s.AppendEvent(ctx, tx, Event{Time: now, IncidentID: inc, MTAHost: r.MTAHost, QueueID: r.QueueID,
			RequestID: id, Actor: who.Name, SourceAddr: who.Addr, Kind: r.Kind + "_" + state,
			Before: r.State, After: state, Reason: result})
	})
}

// RequestFilter selects requests; empty fields match all.
type RequestFilter struct {
	Node    string
	MTAHost string
	QueueID string
	State   string
	Limit   int // default 1000
}

// Requests returns requests, oldest first.
func (s *Store) Requests(ctx context.Context, f RequestFilter) ([]Request, error) {
	where, args := "1 = 1", []any{}
	for _, c := range []struct{ col, v string }{{"node", f.Node}, {"mta_host", f.MTAHost}, {"queue_id", f.QueueID}, {"state", f.State}} {
		if c.v != "" {
			where += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+requestColumns+` FROM requests WHERE `+where+` ORDER BY id LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("store: requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Unclaim puts back to pending the requests of node claimed before
// claimedBefore and never finished (the node stopped while executing
// them), with an event each, and returns how many. The node calls it on
// start; executing a release or delete twice is harmless (postsuper
// reports the message gone).
func (s *Store) Unclaim(ctx context.Context, node string, claimedBefore time.Time, who Actor) (int, error) {
	n := 0
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+requestColumns+` FROM requests WHERE node = ? AND state = ? AND claimed_us < ?`),
			node, RequestClaimed, micros(claimedBefore))
		if err != nil {
			return fmt.Errorf("store: unclaim: %w", err)
		}
		var rs []Request
		for rows.Next() {
			r, err := scanRequest(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("store: unclaim: %w", err)
			}
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE requests SET state = ?, claimed_us = 0 WHERE id = ?`), RequestPending, r.ID); err != nil {
				return fmt.Errorf("store: unclaim: %w", err)
			}
			if err := s.AppendEvent(ctx, tx, Event{MTAHost: r.MTAHost, QueueID: r.QueueID, RequestID: r.ID, Actor: who.Name,
				SourceAddr: who.Addr, Kind: r.Kind + "_unclaimed", Before: RequestClaimed, After: RequestPending,
				Reason: "claimed and not finished"}); err != nil {
				return err
			}
		}
		n = len(rs)
		return nil
	})
	return n, err
}
