package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers "sqlite"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Drivers.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ErrNotFound is returned when an incident, held message or request does
// not exist.
var ErrNotFound = errors.New("store: not found")

// Options say which database to open.
type Options struct {
	Driver string // SQLite (default) or Postgres
	Path   string // SQLite: the database file (its directory is created)
	DSN    string // PostgreSQL: a libpq connection string or URL
	// BusyTimeout is how long a SQLite writer waits for the lock held by
	// another connection or process, default 5s.
	BusyTimeout time.Duration
}

// Store is an open incident store. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	driver string
	path   string // SQLite file
	now    func() time.Time
}

// Open opens the database of o. It does not migrate: call [Store.Migrate].
func Open(ctx context.Context, o Options) (*Store, error) {
	s := &Store{driver: o.Driver, now: time.Now}
	switch o.Driver {
	case "", SQLite:
		s.driver = SQLite
		if o.Path == "" {
			return nil, errors.New("store: sqlite needs a path")
		}
		if err := os.MkdirAll(filepath.Dir(o.Path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create directory of %s: %w", o.Path, err)
		}
		// Created readable by the service's group only: incidents name
		// senders and recipients. SQLite gives its -wal and -shm files the
		// database file's mode.
		if f, err := os.OpenFile(o.Path, os.O_RDWR|os.O_CREATE, 0o640); err == nil {
			f.Close()
		}
		bt := o.BusyTimeout
		if bt <= 0 {
			bt = 5 * time.Second
		}
		q := url.Values{}
		// busy_timeout first: switching a new file to WAL takes a lock
		// another process opening it at the same moment may hold.
		q.Add("_pragma", "busy_timeout("+strconv.FormatInt(bt.Milliseconds(), 10)+")")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(ON)")
		// Write transactions take the lock when they begin, so that two
		// writers wait for each other instead of failing on upgrade.
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+o.Path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", o.Path, err)
		}
		// One writer at a time is SQLite's rule; a few connections let
		// readers (the CLI, the console) run beside the writer in WAL mode.
		db.SetMaxOpenConns(4)
		s.db, s.path = db, o.Path
	case Postgres:
		if o.DSN == "" {
			return nil, errors.New("store: postgres needs a dsn")
		}
		db, err := sql.Open("pgx", o.DSN)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		db.SetMaxOpenConns(8)
		s.db = db
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want sqlite or postgres)", o.Driver)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return s, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Driver returns SQLite or Postgres.
func (s *Store) Driver() string { return s.driver }

// DB returns the database handle, for code that keeps its own tables in
// the same schema.
func (s *Store) DB() *sql.DB { return s.db }

// SetClock replaces the clock used for event and update times (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Migrate applies the embedded migrations not yet applied and returns the
// schema version. On PostgreSQL an advisory lock serialises nodes that
// start at the same time.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	unlock, err := s.migrateLock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// MigrateTo applies or reverts migrations up to version v (tests of
// upgrades from an older schema).
func (s *Store) MigrateTo(ctx context.Context, v int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	cur, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if v >= cur {
		_, err = p.UpTo(ctx, v)
	} else {
		_, err = p.DownTo(ctx, v)
	}
	return err
}

// migrateLock serialises migrations of one SQLite file across processes
// (the service starting while "maildlp incidents" runs): goose's own
// lock is PostgreSQL's advisory lock.
func (s *Store) migrateLock() (func(), error) {
	if s.driver != SQLite {
		return func() {}, nil
	}
	f, err := os.OpenFile(s.path+".migrate-lock", os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func (s *Store) provider() (*goose.Provider, error) {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.driver == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		l, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true), goose.WithTableName("schema_migrations"))
	return goose.NewProvider(dialect, s.db, sub, opts...)
}

// q rewrites the ? placeholders of query for the driver: PostgreSQL
// numbers them ($1, $2 ...). Queries in this package never have a ? in a
// literal.
func (s *Store) q(query string) string {
	if s.driver != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Tx runs fn in a transaction, committed when fn returns nil.
func (s *Store) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// texts makes the string arguments storable in both dialects: valid
// UTF-8 without NUL (PostgreSQL refuses both in text columns). Senders,
// HELO names and reasons come from outside; one bad byte must not make
// the store refuse an incident.
func texts(args ...any) []any {
	for i, a := range args {
		if s, ok := a.(string); ok {
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
			if strings.IndexByte(s, 0) >= 0 {
				s = strings.ReplaceAll(s, "\x00", "\uFFFD")
			}
			args[i] = s
		}
	}
	return args
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
