package milter

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/internal/testutil"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in   string
		want Addr
		err  string
	}{
		{"inet:10030@127.0.0.1", Addr{"tcp4", "127.0.0.1:10030"}, ""},
		{"inet:127.0.0.1:10030", Addr{"tcp4", "127.0.0.1:10030"}, ""},
		{"inet:10030", Addr{"tcp4", ":10030"}, ""},
		{"inet:10030@localhost", Addr{"tcp", "localhost:10030"}, ""},
		{"inet:localhost:10030", Addr{"tcp", "localhost:10030"}, ""},
		{"inet6:10030@::1", Addr{"tcp6", "[::1]:10030"}, ""},
		{"inet6:10030@[::1]", Addr{"tcp6", "[::1]:10030"}, ""},
		{"inet6:[::1]:10030", Addr{"tcp6", "[::1]:10030"}, ""},
		{"inet:[::1]:10030", Addr{"tcp6", "[::1]:10030"}, ""},
		{"INET:10030@127.0.0.1", Addr{"tcp4", "127.0.0.1:10030"}, ""},
		{"unix:/run/maildlp/milter.sock", Addr{"unix", "/run/maildlp/milter.sock"}, ""},
		{"local:/run/maildlp//milter.sock", Addr{"unix", "/run/maildlp/milter.sock"}, ""},
		{"unix:run/milter.sock", Addr{}, "must be absolute"},
		{"inet:::1:10030", Addr{}, "IPv6 address must be written"},
		{"inet:99999@127.0.0.1", Addr{}, "bad port"},
		{"inet:port@127.0.0.1", Addr{}, "bad port"},
		{"tcp:127.0.0.1:10030", Addr{}, "unknown type"},
		{"127.0.0.1:10030", Addr{}, "unknown type"},
		{"inet:", Addr{}, "want inet"},
		{"inet:]:0", Addr{}, "bad host"},
		{"inet:10030@mx example", Addr{}, "bad host"},
		{"/run/milter.sock", Addr{}, "want inet"},
	}
	for _, tt := range tests {
		got, err := ParseAddr(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseAddr(%q) error = %v, want one containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAddr(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"inet:10030@127.0.0.1", "inet:127.0.0.1:10030", "inet6:[::1]:1", "unix:/a/b", "local:/x", "inet:@", "inet6:1@[", "inet:a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		if err != nil {
			return
		}
		switch a.Network {
		case "unix":
			if !strings.HasPrefix(a.Address, "/") {
				t.Errorf("ParseAddr(%q) = relative unix path %q", s, a.Address)
			}
		case "tcp", "tcp4", "tcp6":
			if _, _, err := net.SplitHostPort(a.Address); err != nil {
				t.Errorf("ParseAddr(%q) = %q, not host:port: %v", s, a.Address, err)
			}
		default:
			t.Errorf("ParseAddr(%q) network %q", s, a.Network)
		}
	})
}

func TestListenUnixSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "milter.sock")
	ln, err := Listen("unix:"+path, 0o660, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode = %v, want socket 0660", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the socket", len(entries))
	}

	// A message over the unix socket.
	eng := &fakeEngine{}
	serveOn(t, eng, ln)
	m := simpleMessage()
	m.network, m.addr = "unix", path
	r := m.send(t, "")
	if r.end.Type != gomilter.ActionAccept || len(r.mods) != 1 {
		t.Errorf("over unix socket: %v %q", r.end, modStrings(r.mods))
	}
	if _, got, _ := eng.snapshot(); string(got) != m.wire() {
		t.Errorf("engine read %q", got)
	}

	// A live socket is not taken over.
	if _, err := Listen("unix:"+path, 0o660, ""); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Listen on a live socket: %v, want in use", err)
	}
}

func TestListenUnixStaleAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	// Leave a socket file behind with nobody listening.
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	ln, err := Listen("unix:"+stale, 0o600, "")
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	if fi, err := os.Stat(stale); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket after replacing the stale one: %v %v", fi, err)
	}
	ln.Close()
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Errorf("socket file left after Close: %v", err)
	}

	regular := filepath.Join(dir, "file")
	os.WriteFile(regular, []byte("keep me"), 0o644)
	if _, err := Listen("unix:"+regular, 0o660, ""); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a regular file: %v, want refusal", err)
	}
	if b, _ := os.ReadFile(regular); string(b) != "keep me" {
		t.Errorf("regular file changed")
	}
}

func TestListenUnixOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	// Our own uid/gid always works, root or not.
	owner := strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
	ln, err := Listen("unix:"+path, 0o660, owner)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if _, err := Listen("unix:"+path, 0o660, "no-such-user-maildlp"); err == nil {
		t.Errorf("unknown owner accepted")
	}
}

func TestListenTCPNoDelay(t *testing.T) {
	ln, err := Listen("inet:127.0.0.1:0", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, ok := ln.(connListener); !ok {
		t.Fatalf("TCP listener is %T, want connListener", ln)
	}
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !tcpNoDelay(t, c) {
		t.Errorf("accepted connection without TCP_NODELAY")
	}
}

func tcpNoDelay(t *testing.T, c net.Conn) bool {
	t.Helper()
	if qc, ok := c.(*quickAckConn); ok {
		c = qc.TCPConn
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	raw.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
	})
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v != 0
}

func TestListenUnixAddr(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.sock")
	ln, err := Listen("unix:"+path, 0o600, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := ln.Addr().String(); got != path {
		t.Errorf("Addr() = %q, want %q", got, path)
	}
}

func TestLogLibraryWarnings(t *testing.T) {
	old := gomilter.LogWarning
	defer func() { gomilter.LogWarning = old }()
	var buf testutil.LogBuffer
	LogLibraryWarnings(slog.New(slog.NewJSONHandler(&buf, nil)))
	gomilter.LogWarning("bad packet %d", 7)
	if got := buf.String(); !strings.Contains(got, `"msg":"bad packet 7"`) || !strings.Contains(got, `"component":"go-milter"`) {
		t.Errorf("log = %s", got)
	}
}

// nagleDialer dials with Nagle's algorithm on, as Postfix's milter client
// has it on loopback.
type nagleDialer struct{}

func (nagleDialer) Dial(network, addr string) (net.Conn, error) {
	c, err := net.Dial(network, addr)
	if err == nil {
		c.(*net.TCPConn).SetNoDelay(false)
	}
	return c, err
}

// TestNoDelayedACKStall: an MTA with Nagle on sends header and body events
// back to back without waiting for replies; each small packet would wait
// for our delayed ACK (about 40 ms) unless we ACK at once.
func TestNoDelayedACKStall(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_QUICKACK is Linux only")
	}
	_, addr := startServer(t, &fakeEngine{})
	best := time.Hour
	for range 5 {
		m := simpleMessage()
		m.headers = append(m.headers, [2]string{"X-A", " 1"}, [2]string{"X-B", " 2"}, [2]string{"X-C", " 3"})
		start := time.Now()
		if _, err := m.trySendWith(addr, gomilter.WithDialer(nagleDialer{})); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	if best > 30*time.Millisecond {
		t.Errorf("fastest of 5 sessions took %v: delayed-ACK stall", best)
	}
}
