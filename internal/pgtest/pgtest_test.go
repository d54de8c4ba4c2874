package pgtest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// psqlDSN runs one query through the DSN (over TCP), as a client would.
func psqlDSN(t *testing.T, s *Server, dsn, query string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", dsn, "-c", query)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestServer proves the harness: a database reachable through its DSN,
// data that survives Stop/Start on the same port, a refused connection
// while stopped, a second database, and nothing left behind.
func TestServer(t *testing.T) {
	s := New(t)
	if got, err := psqlDSN(t, s, s.DSN(), "select current_database(), current_user"); err != nil || got != "maildlp|maildlp" {
		t.Fatalf("query through %s = %q, %v; want maildlp|maildlp", s.DSN(), got, err)
	}
	if _, err := s.SQL("create table t (v int); insert into t values (42)"); err != nil {
		t.Fatal(err)
	}
	port := s.Port

	s.Stop()
	if s.Running() {
		t.Fatal("Running() after Stop")
	}
	if out, err := psqlDSN(t, s, s.DSN(), "select 1"); err == nil {
		t.Fatalf("query while stopped succeeded: %q", out)
	}

	s.Start()
	if s.Port != port {
		t.Fatalf("port after restart = %d, want %d", s.Port, port)
	}
	if got, err := psqlDSN(t, s, s.DSN(), "select v from t"); err != nil || got != "42" {
		t.Fatalf("after restart: %q, %v; want 42", got, err)
	}

	s.Kill()
	s.Start()
	if got, err := s.SQL("select count(*) from t"); err != nil || got != "1" {
		t.Fatalf("after crash recovery: %q, %v; want 1", got, err)
	}

	dsn := s.CreateDatabase("other")
	if got, err := psqlDSN(t, s, dsn, "select current_database()"); err != nil || got != "other" {
		t.Fatalf("second database: %q, %v", got, err)
	}
	if !strings.HasPrefix(s.DSN(), "postgres://maildlp@127.0.0.1:") {
		t.Errorf("DSN = %q", s.DSN())
	}
}

// TestCleanupRemovesCluster checks that a finished test leaves no server
// and no directory behind.
func TestCleanupRemovesCluster(t *testing.T) {
	var dir, addr string
	t.Run("inner", func(t *testing.T) {
		s := New(t)
		dir, addr = s.Dir, s.Addr()
	})
	if dir == "" {
		t.Skip("inner test skipped")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after cleanup (err %v)", dir, err)
	}
	if c, err := dialTCP(addr); err == nil {
		c.Close()
		t.Errorf("server on %s still accepts connections after cleanup", addr)
	}
}

func dialTCP(addr string) (interface{ Close() error }, error) {
	return net.DialTimeout("tcp", addr, time.Second)
}
