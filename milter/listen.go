package milter

import (
	"context"
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

	"github.com/maildlp/maildlp/config"
)

// Addr is a parsed milter socket address.
type Addr struct {
	Network string // "tcp", "tcp4", "tcp6" or "unix"
	Address string // host:port for TCP, the path for unix
}

// ParseAddr parses a milter socket address as Postfix and Sendmail write it
// (see [config.ParseMilterAddr] for the forms).
func ParseAddr(s string) (Addr, error) {
	network, address, err := config.ParseMilterAddr(s)
	if err != nil {
		return Addr{}, err
	}
	return Addr{Network: network, Address: address}, nil
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
	return listen(a, addr, unixMode, owner)
}

// ListenAddr is [Listen] for an address parsed when the config was loaded
// (milter.listen).
func ListenAddr(a config.MilterAddr, unixMode os.FileMode, owner string) (net.Listener, error) {
	return listen(Addr{Network: a.Network, Address: a.Address}, a.String(), unixMode, owner)
}

func listen(a Addr, addr string, unixMode os.FileMode, owner string) (net.Listener, error) {
	if a.Network != "unix" {
		// No TCP keepalive: Go's default would cost four setsockopt calls
		// per connection, and Postfix opens one per SMTP session; a dead
		// MTA is found by idle_timeout instead.
		lc := net.ListenConfig{KeepAlive: -1}
		ln, err := lc.Listen(context.Background(), a.Network, a.Address)
		if err != nil {
			return nil, fmt.Errorf("milter listen %s: %w", addr, err)
		}
		return connListener{ln}, nil
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
	return connListener{&unixListener{UnixListener: ul, path: path}}, nil
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

// connListener tunes every accepted TCP connection for the milter
// protocol with immediate ACKs (TCP_QUICKACK, Linux): maildlp asks the
// MTA not to wait for replies to header and body events, so the MTA
// sends many small packets in a row. Postfix keeps Nagle's algorithm on
// when its buffers are larger than the MSS (always on loopback), and
// each of its packets then waits for our ACK, which the kernel delays by
// up to 40 ms when we have nothing to send (see quickAckConn).
//
// TCP_NODELAY, so that a small reply of ours does not wait for the MTA's
// delayed ACK, is Go's default for every TCP connection; setting it again
// would be a system call per connection. The session loop buffers reads
// and writes itself (conn in loop.go).
type connListener struct{ net.Listener }

func (l connListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		c = newQuickAckConn(tc)
	}
	return c, nil
}
