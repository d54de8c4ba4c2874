package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maildlp/maildlp/store"
)

// requestFilter selects release and delete requests, newest first.
type requestFilter struct {
	State  string
	Before int64 // ids below this (paging), 0 for the newest
	Limit  int
}

// requests lists the newest release and delete requests for the
// quarantine page ([store.Store.Requests] lists the oldest first, which
// suits one message's few requests but not a page of the latest).
func (s *Server) requests(ctx context.Context, f requestFilter) ([]store.Request, error) {
	where, args := "1 = 1", []any{}
	if f.State != "" {
		where += " AND state = ?"
		args = append(args, f.State)
	}
	if f.Before > 0 {
		where += " AND id < ?"
		args = append(args, f.Before)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	rows, err := s.st.DB().QueryContext(ctx, q(s.st, `SELECT id, kind, node, mta_host, queue_id, reason, actor,
		source_addr, state, result, created_us, claimed_us, done_us FROM requests WHERE `+where+` ORDER BY id DESC LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("console: requests: %w", err)
	}
	defer rows.Close()
	var out []store.Request
	for rows.Next() {
		var r store.Request
		var c, cl, d int64
		if err := rows.Scan(&r.ID, &r.Kind, &r.Node, &r.MTAHost, &r.QueueID, &r.Reason, &r.Actor, &r.SourceAddr,
			&r.State, &r.Result, &c, &cl, &d); err != nil {
			return nil, fmt.Errorf("console: requests: %w", err)
		}
		r.Created, r.Claimed, r.Done = micro(c), micro(cl), micro(d)
		out = append(out, r)
	}
	return out, rows.Err()
}

func micro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// heldFilter selects held messages, oldest first, a page at a time.
type heldFilter struct {
	Node  string
	Min   time.Duration // held at least this long
	Max   time.Duration // held less than this long (0: no bound)
	After string        // cursor: the last message of the previous page
	Limit int
	Now   time.Time
}

// heldPage lists messages in the held state, oldest first, by keyset on
// (held time, MTA host, queue id), and returns the next page's cursor.
func (s *Server) heldPage(ctx context.Context, f heldFilter) ([]store.Held, string, error) {
	where, args := "state = ?", []any{store.HeldHeld}
	if f.Node != "" {
		where += " AND node = ?"
		args = append(args, f.Node)
	}
	if f.Min > 0 {
		where += " AND held_us <= ?"
		args = append(args, f.Now.Add(-f.Min).UnixMicro())
	}
	if f.Max > 0 {
		where += " AND held_us > ?"
		args = append(args, f.Now.Add(-f.Max).UnixMicro())
	}
	if f.After != "" {
		us, host, queue, err := parseHeldCursor(f.After)
		if err != nil {
			return nil, "", err
		}
		where += " AND (held_us > ? OR (held_us = ? AND (mta_host > ? OR (mta_host = ? AND queue_id > ?))))"
		args = append(args, us, us, host, host, queue)
	}
	args = append(args, f.Limit+1)
	rows, err := s.st.DB().QueryContext(ctx, q(s.st, `SELECT mta_host, queue_id, incident_id, node, state, held_us, updated_us
		FROM quarantine WHERE `+where+` ORDER BY held_us, mta_host, queue_id LIMIT ?`), args...)
	if err != nil {
		return nil, "", fmt.Errorf("console: held messages: %w", err)
	}
	defer rows.Close()
	var out []store.Held
	for rows.Next() {
		var h store.Held
		var t, u int64
		if err := rows.Scan(&h.MTAHost, &h.QueueID, &h.IncidentID, &h.Node, &h.State, &t, &u); err != nil {
			return nil, "", fmt.Errorf("console: held messages: %w", err)
		}
		h.HeldAt, h.Updated = micro(t), micro(u)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("console: held messages: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		l := out[len(out)-1]
		next = fmt.Sprintf("%d/%s/%s", l.HeldAt.UnixMicro(), url.PathEscape(l.MTAHost), url.PathEscape(l.QueueID))
	}
	return out, next, nil
}

var errBadCursor = errors.New("console: bad cursor")

func parseHeldCursor(c string) (int64, string, string, error) {
	p := strings.SplitN(c, "/", 3)
	if len(p) != 3 {
		return 0, "", "", errBadCursor
	}
	us, err := strconv.ParseInt(p[0], 10, 64)
	host, err1 := url.PathUnescape(p[1])
	queue, err2 := url.PathUnescape(p[2])
	if err != nil || err1 != nil || err2 != nil {
		return 0, "", "", errBadCursor
	}
	return us, host, queue, nil
}

// countHeld counts the messages in the held state.
func (s *Server) countHeld(ctx context.Context) (int64, error) {
	var n int64
	err := s.st.DB().QueryRowContext(ctx, q(s.st, `SELECT COUNT(*) FROM quarantine WHERE state = ?`), store.HeldHeld).Scan(&n)
	return n, err
}
