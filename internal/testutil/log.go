package testutil

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Logger returns a JSON logger at debug level that writes each record to
// the test log, and to every w given (a [LogBuffer] to read the records
// back). Records written after the test has ended, by a connection that
// is still winding down, go only to w.
func Logger(t testing.TB, w ...io.Writer) *slog.Logger {
	tw := &testWriter{t: t}
	t.Cleanup(func() { tw.done.Store(true) })
	return slog.New(slog.NewJSONHandler(io.MultiWriter(append([]io.Writer{tw}, w...)...), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// LogBuffer keeps what loggers write to it; it is safe for concurrent
// writers, such as the sessions of a server under test.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
