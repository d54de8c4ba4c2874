package milter

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Addr is a parsed milter socket address.
type Addr struct {
	Network string // "tcp", "tcp4", "tcp6" or "unix"
	Address string // host:port for TCP, the path for unix
}

// ParseAddr parses a milter socket address as Postfix and Sendmail write it:
//
//	inet:10030@127.0.0.1     Sendmail: port@host
//	inet:127.0.0.1:10030     Postfix:  host:port
//	inet:10030               all IPv4 addresses
//	inet6:10030@::1          IPv6, Sendmail form
//	inet6:[::1]:10030        IPv6, Postfix form
//	unix:/run/milter.sock    unix socket ("local:" is the same)
func ParseAddr(s string) (Addr, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Addr{}, fmt.Errorf("milter address %q: want inet:port@host, inet:host:port, inet6:... or unix:/path", s)
	}
	switch strings.ToLower(scheme) {
	case "unix", "local":
		if !strings.HasPrefix(rest, "/") {
			return Addr{}, fmt.Errorf("milter address %q: unix socket path must be absolute", s)
		}
		return Addr{Network: "unix", Address: filepath.Clean(rest)}, nil
	case "inet", "inet6":
		network := "tcp4"
		if strings.EqualFold(scheme, "inet6") {
			network = "tcp6"
		}
		host, port, err := splitInet(rest)
		if err != nil {
			return Addr{}, fmt.Errorf("milter address %q: %v", s, err)
		}
		if host != "" {
			ip := net.ParseIP(host)
			if ip == nil {
				if !validHostname(host) {
					return Addr{}, fmt.Errorf("milter address %q: bad host %q", s, host)
				}
				// A name: let the resolver pick the family.
				network = "tcp"
			} else if ip.To4() == nil && network == "tcp4" {
				network = "tcp6"
			}
		}
		return Addr{Network: network, Address: net.JoinHostPort(host, port)}, nil
	}
	return Addr{}, fmt.Errorf("milter address %q: unknown type %q (want inet, inet6, unix or local)", s, scheme)
}

// validHostname reports whether s is a plausible host name (letters,
// digits, '-', '_' and '.').
func validHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, c := range s {
		if !(c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// splitInet splits "port@host", "host:port", "[v6]:port" or "port".
func splitInet(s string) (host, port string, err error) {
	if p, h, ok := strings.Cut(s, "@"); ok {
		host, port = strings.Trim(h, "[]"), p
	} else if strings.HasPrefix(s, "[") {
		host, port, err = net.SplitHostPort(s)
		if err != nil {
			return "", "", err
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if strings.Count(s, ":") > 1 {
			return "", "", errors.New("IPv6 address must be written [addr]:port or port@addr")
		}
		host, port = s[:i], s[i+1:]
	} else {
		port = s
	}
	n, perr := strconv.Atoi(port)
	if perr != nil || n < 0 || n > 65535 {
		return "", "", fmt.Errorf("bad port %q", port)
	}
	return host, port, nil
}

// Listen opens a listener on a milter socket address (see [ParseAddr]).
// For unix sockets it removes a stale socket file left by a previous run
// (only if it is a socket and nobody answers on it), creates the socket
// with unixMode permissions and changes its owner to owner ("user",
// "user:group" or ":group"; "" keeps the process's). TCP connections
// accepted from the listener have TCP_NODELAY set.
func Listen(addr string, unixMode os.FileMode, owner string) (net.Listener, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if a.Network != "unix" {
		ln, err := net.Listen(a.Network, a.Address)
		if err != nil {
			return nil, fmt.Errorf("milter listen %s: %w", addr, err)
		}
		return noDelayListener{ln}, nil
	}
	if err := removeStaleSocket(a.Address); err != nil {
		return nil, fmt.Errorf("milter listen %s: %w", addr, err)
	}
	uid, gid, err := lookupOwner(owner)
	if err != nil {
		return nil, fmt.Errorf("milter listen %s: %w", addr, err)
	}
	return listenUnix(a.Address, unixMode.Perm(), uid, gid)
}

// listenUnix creates the socket in a private directory beside path, sets
// its owner and mode there and only then renames it into place: the
// socket is never reachable with a wider mode or the wrong owner, and the
// process umask (shared by every goroutine) is left alone.
func listenUnix(path string, mode os.FileMode, uid, gid int) (net.Listener, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".maildlp-sock-")
	if err != nil {
		return nil, fmt.Errorf("milter listen unix:%s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("milter listen unix:%s: %w", path, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, error) {
		ul.Close()
		return nil, fmt.Errorf("milter listen unix:%s: %w", path, err)
	}
	if uid >= 0 || gid >= 0 {
		if err := os.Lchown(tmp, uid, gid); err != nil {
			return fail(fmt.Errorf("set owner: %w", err))
		}
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(fmt.Errorf("set mode %#o: %w", mode, err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return &unixListener{UnixListener: ul, path: path}, nil
}

// unixListener removes its socket file when closed.
type unixListener struct {
	*net.UnixListener
	path string
	once sync.Once
}

// Addr is the socket's final path (the listener was opened on a
// temporary name).
func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() { os.Remove(l.path) })
	return err
}

// removeStaleSocket removes path if it is a socket that no process answers
// on. A regular file, a directory or a live socket is an error: we never
// delete something that is not ours to delete.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s is in use by another process", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// lookupOwner resolves "user", "user:group" or ":group" to ids; -1 means
// unchanged.
func lookupOwner(owner string) (uid, gid int, err error) {
	uid, gid = -1, -1
	if owner == "" {
		return uid, gid, nil
	}
	u, g, _ := strings.Cut(owner, ":")
	if u != "" {
		if n, err := strconv.Atoi(u); err == nil {
			uid = n
		} else {
			usr, err := user.Lookup(u)
			if err != nil {
				return -1, -1, fmt.Errorf("socket owner %q: %w", owner, err)
			}
			uid, _ = strconv.Atoi(usr.Uid)
		}
	}
	if g != "" {
		if n, err := strconv.Atoi(g); err == nil {
			gid = n
		} else {
			grp, err := user.LookupGroup(g)
			if err != nil {
				return -1, -1, fmt.Errorf("socket owner %q: %w", owner, err)
			}
			gid, _ = strconv.Atoi(grp.Gid)
		}
	}
	return uid, gid, nil
}

// bufferedConn reads through a buffer: go-milter reads each packet with
// two unbuffered reads (length, then payload), and the MTA sends most
// events back to back without waiting for a reply, so one read system
// call now serves many packets. Large body packets bypass the buffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func newBufferedConn(c net.Conn) *bufferedConn {
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, 8<<10)}
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// noDelayListener sets TCP_NODELAY on every accepted TCP connection: with
// Nagle's algorithm and the MTA's delayed ACKs, each small reply would wait
// about 40 ms. Go's own listeners already do so; the wrapper makes it hold
// for any listener handed to [Server.Serve].
type noDelayListener struct{ net.Listener }

func (l noDelayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return newBufferedConn(c), nil
}
