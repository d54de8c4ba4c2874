package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/pgtest"
)

// openSQLite opens a migrated store in a temporary directory.
func openSQLite(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "maildlp.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// openPG starts a cluster and opens a migrated store on it.
func openPG(t testing.TB) (*Store, *pgtest.Server) {
	t.Helper()
	p := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, Options{Driver: Postgres, DSN: p.DSN()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s, p
}

// eachDriver runs f on SQLite and on PostgreSQL.
func eachDriver(t *testing.T, f func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		s, _ := openPG(t)
		f(t, s)
	})
}
