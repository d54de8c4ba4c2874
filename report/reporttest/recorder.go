// Package reporttest provides a [report.Recorder] for tests that keeps
// every decision it is given, so front-end tests can assert on them.
package reporttest

import (
	"sync"

	"github.com/maildlp/maildlp/report"
)

// Recorder keeps the decisions it is given. It is safe for concurrent use.
type Recorder struct {
	mu sync.Mutex
	ds []report.Decision
}

// Record implements report.Recorder.
func (r *Recorder) Record(d report.Decision) {
	r.mu.Lock()
	r.ds = append(r.ds, d)
	r.mu.Unlock()
}

// All returns a copy of the decisions recorded so far, in order.
func (r *Recorder) All() []report.Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]report.Decision(nil), r.ds...)
}

var _ report.Recorder = (*Recorder)(nil)
