// Package pgtest starts a throwaway PostgreSQL server for tests: initdb in
// a temporary directory, the server on a free loopback port and a unix
// socket in that directory, one database, trust authentication for the
// loopback only. It uses Debian's postgresql package (installed by
// scripts/deps.sh), found under /usr/lib/postgresql/*/bin or on PATH.
//
// PostgreSQL refuses to run as root; under root the cluster belongs to the
// postgres user (or nobody) and its tools run with that user's
// credentials.
//
// Without the binaries a test skips, unless CI=true, where that is a
// failure: CI must prove the PostgreSQL code paths.
package pgtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one PostgreSQL cluster owned by a test.
type Server struct {
	t       testing.TB
	bin     string // directory of initdb, pg_ctl, createdb
	Dir     string // temporary directory holding everything below
	DataDir string
	SockDir string
	Port    int
	// User is the database superuser name (trust authentication).
	User string
	// Database is the database created at start.
	Database string

	cred    *syscall.Credential // nil when not running as root
	mu      sync.Mutex
	running bool
}

// Options tune New.
type Options struct {
	// Database names the database to create; default "maildlp".
	Database string
}

// BinDir returns the directory of the PostgreSQL server tools: the newest
// /usr/lib/postgresql/N/bin, else the directory of pg_ctl on PATH.
// MAILDLP_PG_BIN overrides both.
func BinDir() (string, error) {
	if d := os.Getenv("MAILDLP_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Numeric, not lexical, order: 9.6 < 15 < 16.
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) < pgVersion(dirs[j]) })
	for k := len(dirs) - 1; k >= 0; k-- {
		if _, err := os.Stat(filepath.Join(dirs[k], "initdb")); err == nil {
			return dirs[k], nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return filepath.Dir(p), nil
	}
	return "", errors.New("pgtest: PostgreSQL server tools not installed (run scripts/deps.sh unit)")
}

func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// New creates and starts a cluster with one database and registers its
// removal with t.Cleanup. It skips t (fails it under CI=true) when the
// PostgreSQL tools are missing.
func New(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Database == "" {
		o.Database = "maildlp"
	}
	bin, err := BinDir()
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "maildlp-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, Dir: dir, DataDir: filepath.Join(dir, "data"),
		SockDir: filepath.Join(dir, "sock"), User: "maildlp", Database: o.Database}
	t.Cleanup(s.cleanup)
	if err := s.setup(); err != nil {
		t.Fatal(err)
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	if out, err := s.tool("createdb", "-h", s.SockDir, "-p", strconv.Itoa(s.Port), "-U", s.User, s.Database); err != nil {
		t.Fatalf("pgtest: createdb: %v\n%s", err, out)
	}
	return s
}

// setup makes the directories (owned by the cluster's user under root) and
// runs initdb.
func (s *Server) setup() error {
	if os.Geteuid() == 0 {
		cred, err := clusterUser()
		if err != nil {
			return err
		}
		s.cred = cred
	}
	// The cluster's user must traverse Dir; only it may read DataDir.
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		return err
	}
	for _, d := range []string{s.DataDir, s.SockDir, filepath.Join(s.Dir, "log")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		if s.cred != nil {
			if err := os.Chown(d, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return err
			}
		}
	}
	out, err := s.tool("initdb", "-D", s.DataDir, "-U", s.User, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	// Durability is not under test here (and the machine is shared):
	// small buffers, no fsync. Settings live in the cluster so that
	// Start after Stop brings back the same server.
	conf := strings.Join([]string{
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = '" + s.SockDir + "'",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"shared_buffers = 16MB",
		"max_connections = 60",
		"log_min_messages = warning",
		"",
	}, "\n")
	f, err := os.OpenFile(filepath.Join(s.DataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// clusterUser is the account that owns the cluster when tests run as root.
func clusterUser() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgtest: running as root and neither the postgres nor the nobody user exists")
}

// tool runs one PostgreSQL program as the cluster's user.
func (s *Server) tool(name string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
		cmd.Env = append(cmd.Env, "HOME="+s.Dir)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start starts the server on a free port; a port taken between choosing
// and binding is retried with another.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if s.Port == 0 || attempt > 0 {
			if s.Port, err = freePort(); err != nil {
				return err
			}
		}
		var out string
		out, err = s.tool("pg_ctl", "-D", s.DataDir, "-l", s.logPath(),
			"-o", "-p "+strconv.Itoa(s.Port), "-w", "-t", "60", "start")
		if err == nil {
			s.running = true
			return nil
		}
		err = fmt.Errorf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, s.Log())
		if !strings.Contains(s.Log(), "could not bind") && !strings.Contains(s.Log(), "in use") {
			return err
		}
	}
	return err
}

// Start starts a stopped server again on the same port (outage tests).
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	port := s.Port
	s.mu.Unlock()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
	if s.Port != port {
		s.t.Fatalf("pgtest: port %d was taken while the server was down", port)
	}
}

// Stop stops the server (fast shutdown: clients are disconnected, open
// transactions roll back) and waits until it has exited.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.stop("fast"); err != nil {
		s.t.Fatal(err)
	}
}

// Kill stops the server without a clean shutdown (immediate mode, as after
// a crash: recovery runs at the next Start).
func (s *Server) Kill() {
	s.t.Helper()
	if err := s.stop("immediate"); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Server) stop(mode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil
	}
	out, err := s.tool("pg_ctl", "-D", s.DataDir, "-m", mode, "-w", "-t", "60", "stop")
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
	s.running = false
	return nil
}

// Running reports whether the server is up (as far as this Server knows).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// DSN is a libpq/pgx connection URL for the database over TCP.
func (s *Server) DSN() string { return s.DSNFor(s.Database) }

// DSNFor is DSN for another database of the cluster.
func (s *Server) DSNFor(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(s.User), Host: "127.0.0.1:" + strconv.Itoa(s.Port),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// CreateDatabase adds a database to the cluster and returns its DSN; tests
// that share one server use one database each.
func (s *Server) CreateDatabase(name string) string {
	s.t.Helper()
	if out, err := s.tool("createdb", "-h", s.SockDir, "-p", strconv.Itoa(s.Port), "-U", s.User, name); err != nil {
		s.t.Fatalf("pgtest: createdb %s: %v\n%s", name, err, out)
	}
	return s.DSNFor(name)
}

// SQL runs statements with psql against the database and returns the
// output, unaligned and without headers (fields separated by |).
func (s *Server) SQL(query string) (string, error) {
	out, err := s.tool("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", s.SockDir,
		"-p", strconv.Itoa(s.Port), "-U", s.User, "-d", s.Database, "-c", query)
	if err != nil {
		return out, fmt.Errorf("pgtest: psql: %v: %s", err, strings.TrimSpace(out))
	}
	return strings.TrimRight(out, "\n"), nil
}

func (s *Server) logPath() string { return filepath.Join(s.Dir, "log", "postgres.log") }

// Log returns the server's log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath())
	return string(b)
}

func (s *Server) cleanup() {
	if s.t.Failed() {
		s.t.Logf("pgtest: server log (%s):\n%s", s.Dir, tail(s.Log(), 40))
	}
	if err := s.stop("immediate"); err != nil {
		s.t.Log(err)
	}
	if s.t.Failed() && os.Getenv("MAILDLP_KEEP") != "" {
		return
	}
	os.RemoveAll(s.Dir)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: listen 127.0.0.1:0: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// WaitReady waits until the server accepts TCP connections.
func (s *Server) WaitReady(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
