package integration

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Postgres is a throwaway PostgreSQL cluster for tests of nodes sharing
// one store: initdb in a temporary directory (owned by the postgres user,
// since PostgreSQL refuses root), the server on a free loopback port,
// trust authentication, one database "maildlp". Debian's postgresql
// package is installed by scripts/deps.sh integration. (The main module's
// tests use internal/pgtest, the same steps.)
type Postgres struct {
	t    testing.TB
	bin  string
	Dir  string
	Port int
	cred *syscall.Credential
}

// NewPostgres starts a cluster and stops it at cleanup.
func NewPostgres(t testing.TB) *Postgres {
	t.Helper()
	needEnv(t)
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return pgVer(dirs[i]) < pgVer(dirs[j]) })
	if len(dirs) == 0 {
		if inCI() {
			t.Fatal("CI=true but PostgreSQL is not installed (scripts/deps.sh integration)")
		}
		t.Skip("PostgreSQL is not installed")
	}
	p := &Postgres{t: t, bin: filepath.Dir(dirs[len(dirs)-1]), Dir: tempDir(t, "maildlp-pg-"), Port: freePort(t)}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("postgres user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	for _, d := range []string{"data", "run"} {
		if err := os.Mkdir(filepath.Join(p.Dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chown(filepath.Join(p.Dir, d), uid, gid)
	}
	p.must("initdb", "-D", p.data(), "-U", "maildlp", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\nsynchronous_commit = off\nshared_buffers = 16MB\nmax_connections = 60\n",
		p.Port, filepath.Join(p.Dir, "run"))
	f, err := os.OpenFile(filepath.Join(p.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(p.Dir, "run", "postgres.log"))
			t.Logf("postgres log:\n%s", tail(string(b), 40))
		}
		p.run("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop")
	})
	p.must("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.Dir, "run", "postgres.log"), "-w", "-t", "60", "start")
	p.must("createdb", "-h", filepath.Join(p.Dir, "run"), "-p", strconv.Itoa(p.Port), "-U", "maildlp", "maildlp")
	return p
}

func pgVer(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

func (p *Postgres) data() string { return filepath.Join(p.Dir, "data") }

func (p *Postgres) run(name string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "HOME="+p.Dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (p *Postgres) must(name string, args ...string) {
	p.t.Helper()
	if out, err := p.run(name, args...); err != nil {
		p.t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// DSN is the connection URL of the maildlp database.
func (p *Postgres) DSN() string {
	return fmt.Sprintf("postgres://maildlp@127.0.0.1:%d/maildlp?sslmode=disable", p.Port)
}

// SQL runs a query with psql and returns its rows, fields separated by |.
func (p *Postgres) SQL(query string) []string {
	p.t.Helper()
	out, err := p.run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", filepath.Join(p.Dir, "run"),
		"-p", strconv.Itoa(p.Port), "-U", "maildlp", "-d", "maildlp", "-c", query)
	if err != nil {
		p.t.Fatalf("psql %q: %v\n%s", query, err, out)
	}
	out = strings.TrimSpace(out)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// WaitSQL polls query until cond holds for its rows.
func (p *Postgres) WaitSQL(timeout time.Duration, query string, cond func([]string) bool) []string {
	p.t.Helper()
	var rows []string
	if !waitFor(timeout, 100*time.Millisecond, func() bool {
		rows = p.SQL(query)
		return cond(rows)
	}) {
		p.t.Fatalf("after %v, %q gives %q", timeout, query, rows)
	}
	return rows
}
