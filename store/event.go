package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Event kinds written by this package. Other packages append their own
// kinds (quarantine: hold, release_requested, released ...) with
// [Store.AppendEvent].
const (
	KindStatus = "status"
	KindAssign = "assign"
	KindNote   = "note"
)

// Actor is who made a change: a user name (the CLI uses the login name,
// the console the authenticated user) and the address it came from.
type Actor struct {
	Name string
	Addr string // source address ("" for a local command)
}

// Event is one row of the append-only audit log.
type Event struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	IncidentID string    `json:"incident_id,omitempty"`
	MTAHost    string    `json:"mta_host,omitempty"`
	QueueID    string    `json:"queue_id,omitempty"`
	RequestID  int64     `json:"request_id,omitempty"`
	Actor      string    `json:"actor"`
	SourceAddr string    `json:"source_addr,omitempty"`
	Kind       string    `json:"kind"`
	Before     string    `json:"before,omitempty"`
	After      string    `json:"after,omitempty"`
	Reason     string    `json:"reason,omitempty"`
}

// AppendEvent appends e within tx (set e.Time to zero for now). It is the
// only way events are written; nothing updates or deletes them.
func (s *Store) AppendEvent(ctx context.Context, tx *sql.Tx, e Event) error {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Actor == "" || e.Kind == "" {
		return fmt.Errorf("store: event without actor or kind")
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO events (time_us, incident_id, mta_host, queue_id, request_id,
		actor, source_addr, kind, before_value, after_value, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)`),
		texts(micros(e.Time), e.IncidentID, e.MTAHost, e.QueueID, e.RequestID, e.Actor, e.SourceAddr, e.Kind,
			e.Before, e.After, e.Reason)...)
	if err != nil {
		return fmt.Errorf("store: append event: %w", err)
	}
	return nil
}

// SetStatus changes the status of an incident and logs it.
func (s *Store) SetStatus(ctx context.Context, id string, st Status, who Actor, reason string) error {
	if _, err := ParseStatus(string(st)); err != nil {
		return err
	}
	return s.change(ctx, id, "status", string(st), KindStatus, who, reason)
}

// Assign gives an incident to a reviewer ("" unassigns) and logs it.
func (s *Store) Assign(ctx context.Context, id, assignee string, who Actor, reason string) error {
	return s.change(ctx, id, "assignee", assignee, KindAssign, who, reason)
}

// Note adds a note to an incident: an event of kind note, its text the
// reason.
func (s *Store) Note(ctx context.Context, id, text string, who Actor) error {
	if text == "" {
		return fmt.Errorf("store: empty note")
	}
	return s.Tx(ctx, func(tx *sql.Tx) error {
		var x int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`), id).Scan(&x)
		if err == sql.ErrNoRows {
			return fmt.Errorf("incident %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: note: %w", err)
		}
		return s.AppendEvent(ctx, tx, Event{IncidentID: id, Actor: who.Name, SourceAddr: who.Addr, Kind: KindNote, Reason: text})
	})
}

// change sets one column of an incident and appends the event with the
// value before and after, in one transaction.
func (s *Store) change(ctx context.Context, id, column, value, kind string, who Actor, reason string) error {
	return s.Tx(ctx, func(tx *sql.Tx) error {
		var before string
		// column is one of two constants above, never input.
		err := tx.QueryRowContext(ctx, s.q(`SELECT `+column+` FROM incidents WHERE id = ?`), id).Scan(&before)
		if err == sql.ErrNoRows {
			return fmt.Errorf("incident %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", kind, err)
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE incidents SET `+column+` = ?, updated_us = ? WHERE id = ?`),
			texts(value, micros(now), id)...); err != nil {
			return fmt.Errorf("store: %s: %w", kind, err)
		}
		return s.AppendEvent(ctx, tx, Event{Time: now, IncidentID: id, Actor: who.Name, SourceAddr: who.Addr,
			Kind: kind, Before: before, After: value, Reason: reason})
	})
}

// EventFilter selects events; empty fields match all.
type EventFilter struct {
	IncidentID string
	MTAHost    string
	QueueID    string
	AfterID    int64 // events with a larger id
	Limit      int   // default 1000
}

// Events returns events in the order they were appended.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	where, args := "id > ?", []any{f.AfterID}
	if f.IncidentID != "" {
		where += " AND incident_id = ?"
		args = append(args, f.IncidentID)
	}
	if f.MTAHost != "" || f.QueueID != "" {
		where += " AND mta_host = ? AND queue_id = ?"
		args = append(args, f.MTAHost, f.QueueID)
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, time_us, incident_id, mta_host, queue_id, request_id,
		actor, source_addr, kind, before_value, after_value, reason FROM events WHERE `+where+` ORDER BY id LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.IncidentID, &e.MTAHost, &e.QueueID, &e.RequestID, &e.Actor,
			&e.SourceAddr, &e.Kind, &e.Before, &e.After, &e.Reason); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		e.Time = fromMicros(t)
		out = append(out, e)
	}
	return out, rows.Err()
}
