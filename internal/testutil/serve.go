package testutil

import (
	"context"
	"net"
	"testing"
	"time"
)

// ShutdownTimeout bounds the Shutdown that [Serve] calls when the test
// ends.
const ShutdownTimeout = 5 * time.Second

// Serve runs serve in a goroutine for the length of the test. When the
// test ends it calls shutdown and fails the test if shutdown fails or if
// serve returns an error (a server that was shut down returns nil).
func Serve(t testing.TB, serve func() error, shutdown func(context.Context) error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(ShutdownTimeout):
			t.Errorf("Serve has not returned %v after Shutdown", ShutdownTimeout)
		}
	})
}

// Listen returns a TCP listener on a free port of 127.0.0.1, closed when
// the test ends (closing it twice is harmless).
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
