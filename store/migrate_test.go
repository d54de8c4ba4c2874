package store

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestIssue10MigrationsSameSchema checks that the SQLite and PostgreSQL
// migrations are the same list of versions and build the same tables
// with the same columns: one schema, two spellings.
func TestIssue10MigrationsSameSchema(t *testing.T) {
	names := func(dir string) []string {
		es, err := fs.ReadDir(migrations, dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, path.Base(e.Name()))
		}
		return out
	}
	if a, b := names("migrations/sqlite"), names("migrations/postgres"); !slices.Equal(a, b) {
		t.Errorf("migration files differ: sqlite %v, postgres %v", a, b)
	}
	lite := columns(t, openSQLite(t))
	pg, _ := openPG(t)
	pgc := columns(t, pg)
	if !strings.Contains(lite, "events(actor,after_value,") || !strings.Contains(lite, "requests(") {
		t.Fatalf("sqlite schema incomplete: %s", lite)
	}
	if lite != pgc {
		t.Errorf("schemas differ:\nsqlite:   %s\npostgres: %s", lite, pgc)
	}
}

// columns lists "table(col,col...)" of the store's tables, sorted.
func columns(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_migrations'`
	if s.Driver() == Postgres {
		q = `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`
	}
	rows, err := s.DB().QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols := map[string][]string{}
	for rows.Next() {
		var tbl, col string
		if err := rows.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		cols[tbl] = append(cols[tbl], col)
	}
	var out []string
	for tbl, cs := range cols {
		slices.Sort(cs)
		out = append(out, tbl+"("+strings.Join(cs, ",")+")")
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// TestIssue10MigrateDownAndUp migrates an empty database up, fills it,
// goes back to the empty schema and up again, and migrates twice (a
// second start changes nothing).
func TestIssue10MigrateDownAndUp(t *testing.T) {
	eachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.Insert(ctx, []Incident{sample(1)}); err != nil {
			t.Fatal(err)
		}
		v, err := s.Migrate(ctx)
		if err != nil || v != latestVersion(t) {
			t.Fatalf("second Migrate = %d, %v", v, err)
		}
		if _, err := s.Get(ctx, "INC000001"); err != nil {
			t.Fatalf("incident lost by a second migrate: %v", err)
		}
		if err := s.MigrateTo(ctx, 0); err != nil {
			t.Fatal(err)
		}
		var x int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM incidents`).Scan(&x); err == nil {
			t.Error("incidents table still there at version 0")
		}
		if v, err := s.Migrate(ctx); err != nil || v != latestVersion(t) {
			t.Fatalf("Migrate from empty = %d, %v", v, err)
		}
		if n, err := s.Insert(ctx, []Incident{sample(1)}); err != nil || n != 1 {
			t.Fatalf("Insert after re-migrate = %d, %v", n, err)
		}
	})
}

// latestVersion is the highest version among the embedded migrations.
func latestVersion(t *testing.T) int64 {
	es, err := fs.ReadDir(migrations, "migrations/sqlite")
	if err != nil || len(es) == 0 {
		t.Fatal("no migrations", err)
	}
	v, _ := strconv.ParseInt(strings.SplitN(es[len(es)-1].Name(), "_", 2)[0], 10, 64)
	return v
}

// TestIssue10ConcurrentMigrate opens one SQLite file from several stores
// at once (the service starting while the CLI runs): each migrates, one
// creates the schema, none fails.
func TestIssue10ConcurrentMigrate(t *testing.T) {
	path := t.TempDir() + "/maildlp.db"
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(context.Background(), Options{Path: path})
			if err == nil {
				_, err = s.Migrate(context.Background())
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestIssue10MigrateFromPreviousSchema: a database at the previous schema
// version, with incidents in it, is brought to the latest version on
// start; its incidents stay and the tables the later migrations add work.
func TestIssue10MigrateFromPreviousSchema(t *testing.T) {
	es, err := fs.ReadDir(migrations, "migrations/sqlite")
	if err != nil || len(es) < 2 {
		t.Skip("only one schema version so far")
	}
	prev, _ := strconv.ParseInt(strings.SplitN(es[len(es)-2].Name(), "_", 2)[0], 10, 64)
	eachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.MigrateTo(ctx, prev); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Insert(ctx, []Incident{sample(1), sample(2)}); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Migrate(ctx); err != nil || v != latestVersion(t) {
			t.Fatalf("Migrate from version %d = %d, %v", prev, v, err)
		}
		for _, id := range []string{"INC000001", "INC000002"} {
			if _, err := s.Get(ctx, id); err != nil {
				t.Errorf("incident %s lost by the upgrade: %v", id, err)
			}
		}
		if n, err := s.Insert(ctx, []Incident{sample(3)}); err != nil || n != 1 {
			t.Fatalf("Insert after upgrade = %d, %v", n, err)
		}
	})
}
