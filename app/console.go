package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/maildlp/maildlp/console"
	"github.com/maildlp/maildlp/ingest"
	"github.com/maildlp/maildlp/store"
)

// consoleRun is the review console of [console] run by the service.
type consoleRun struct {
	a      *App
	ln     net.Listener
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	srv *console.Server
	st  *store.Store
}

// listenConsole binds the console's address when [console] listen is set
// (nil otherwise), before anything else starts, so that a taken port
// fails the start.
func (a *App) listenConsole() (*consoleRun, error) {
	cfg := a.boot.Console
	if cfg.Listen == "" {
		return nil, nil
	}
	if !a.boot.Store.Enabled() {
		return nil, errors.New("console: [console] listen is set but there is no incident store ([store] driver = \"none\")")
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("console: listen %s: %w", cfg.Listen, err)
	}
	return &consoleRun{a: a, ln: ln, done: make(chan struct{})}, nil
}

// run opens the store, retrying while it is unreachable (connections wait
// in the listen queue meanwhile: the mail path never waits on it), and
// serves. A serving error goes to errc.
func (c *consoleRun) run(errc chan<- error) {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	log := c.a.log.With("component", "console")
	log.Info("listening", "frontend", "console", "addr", c.ln.Addr().String())
	go func() {
		defer close(c.done)
		var st *store.Store
		for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
			var err error
			if st, err = ingest.OpenStore(ctx, c.a.boot.Store); err == nil {
				break
			}
			log.Warn("console: incident store unreachable; retrying", "error", err, "in", wait.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		srv, err := console.New(console.Options{Store: st, Config: c.a.boot.Console, Log: c.a.log})
		if err != nil {
			st.Close()
			errc <- err
			return
		}
		c.mu.Lock()
		c.srv, c.st = srv, st
		c.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if err := srv.Serve(c.ln); err != nil {
			errc <- fmt.Errorf("console on %s: %w", c.ln.Addr(), err)
		}
	}()
}

// shutdown stops the console within a few seconds.
func (c *consoleRun) shutdown() {
	if c == nil {
		return
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.mu.Lock()
	srv, st := c.srv, c.st
	c.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(ctx)
		cancel()
	}
	c.ln.Close()
	if c.cancel != nil {
		<-c.done
	}
	if st != nil {
		st.Close()
	}
}
