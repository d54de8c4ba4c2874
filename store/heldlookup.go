package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// FindHeld returns the held messages with queue id queueID on any MTA
// host (queue ids are unique per host; a CLI given only the id asks here
// which host holds it).
func (s *Store) FindHeld(ctx context.Context, queueID string) ([]Held, error) {
	return s.queryHeld(ctx, `WHERE queue_id = ? ORDER BY mta_host LIMIT 100`, queueID)
}

// IncidentForQueue returns the id of the latest quarantine incident that
// names (mtaHost, queueID): how a held message found in the MTA's hold
// queue is linked to the decision that held it. ErrNotFound when none.
func (s *Store) IncidentForQueue(ctx context.Context, mtaHost, queueID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id FROM incidents WHERE mta_host = ? AND queue_id = ?
		AND action = 'quarantine' ORDER BY time_us DESC, id DESC LIMIT 1`), mtaHost, queueID).Scan(&id)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("incident for %s/%s: %w", mtaHost, queueID, ErrNotFound)
		}
		return "", fmt.Errorf("store: incident for %s/%s: %w", mtaHost, queueID, err)
	}
	return id, nil
}
