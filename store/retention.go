package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Purge deletes up to batch incidents older than before, with their
// recipients and policies, in one short transaction, and returns how many
// it deleted. Call it in a loop until it returns 0; each call holds the
// write lock for one batch only, so inserts go on between batches. The
// event log and the held-message rows are kept: the audit of releases
// outlives the incident.
func (s *Store) Purge(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	n := 0
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM incidents WHERE time_us < ? ORDER BY time_us LIMIT ?`),
			micros(before), batch)
		if err != nil {
			return fmt.Errorf("store: purge: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("store: purge: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		ph := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		for _, t := range []string{"incident_recipients", "incident_domains", "incident_policies"} {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t+` WHERE incident_id IN (`+ph+`)`), ids...); err != nil {
				return fmt.Errorf("store: purge %s: %w", t, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM incidents WHERE id IN (`+ph+`)`), ids...); err != nil {
			return fmt.Errorf("store: purge: %w", err)
		}
		n = len(ids)
		return nil
	})
	return n, err
}
