package ingest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
)

// A copy of the store package's throwaway PostgreSQL cluster (test files
// cannot be shared between packages).

// pgServer is a throwaway PostgreSQL cluster in a temporary directory,
// listening on a loopback port.
type pgServer struct {
	bin, data, sock string
	port            int
}

var pgBinOnce sync.Once
var pgBinDir string

func pgBin() string {
	pgBinOnce.Do(func() {
		m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		sort.Strings(m)
		if len(m) > 0 {
			pgBinDir = filepath.Dir(m[len(m)-1])
		}
	})
	return pgBinDir
}

// startPG starts a cluster, or skips the test when PostgreSQL is not
// installed (scripts/deps.sh store installs it).
func startPG(t testing.TB) *pgServer {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		t.Skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): run scripts/deps.sh store")
	}
	// Not t.TempDir: its parent is private to root, and PostgreSQL runs as
	// nobody when the tests run as root.
	dir, err := os.MkdirTemp("", "maildlp-pg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &pgServer{bin: bin, data: filepath.Join(dir, "data"), sock: dir}
	// PostgreSQL refuses to run as root: run it as nobody then.
	p.run(t, "initdb", "-D", p.data, "-U", "maildlp", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	p.start(t)
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	if os.Getuid() == 0 {
		cmd = exec.Command("setpriv", append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", filepath.Join(p.bin, name)}, args...)...)
	}
	return cmd
}

func (p *pgServer) run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := p.command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (p *pgServer) start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c max_connections=50", p.port, p.sock)
	p.run(t, "pg_ctl", "-D", p.data, "-o", opts, "-l", filepath.Join(p.sock, "pg.log"), "-w", "-t", "60", "start")
}

func (p *pgServer) stop(t testing.TB) {
	t.Helper()
	p.command("pg_ctl", "-D", p.data, "-m", "fast", "-w", "stop").Run()
}

func (p *pgServer) dsn() string {
	return "postgres://maildlp@127.0.0.1:" + strconv.Itoa(p.port) + "/postgres?sslmode=disable"
}
