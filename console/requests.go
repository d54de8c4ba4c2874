package console

import (
	"context"
	"fmt"
	"time"

	"github.com/maildlp/maildlp/store"
)

// requestFilter selects release and delete requests, newest first.
type requestFilter struct {
	MTAHost, QueueID string
	State            string
	Open             bool  // pending or claimed only
	Before           int64 // ids below this (paging), 0 for the newest
	Limit            int
}

// requests lists release and delete requests from the store's requests
// table (the store has no listing of them yet).
func (s *Server) requests(ctx context.Context, f requestFilter) ([]store.Request, error) {
	where, args := "1 = 1", []any{}
	if f.MTAHost != "" || f.QueueID != "" {
		where += " AND mta_host = ? AND queue_id = ?"
		args = append(args, f.MTAHost, f.QueueID)
	}
	if f.State != "" {
		where += " AND state = ?"
		args = append(args, f.State)
	}
	if f.Open {
		where += " AND state IN (?, ?)"
		args = append(args, store.RequestPending, store.RequestClaimed)
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
