package main

import (
	"io"
	"strings"
	"testing"
)

// TestIssue12PprofLoopbackOnly: MAILDLP_PPROF serves only on a loopback
// address; anything else stops the service at start.
func TestIssue12PprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "localhost:0", "127.0.0.1"} {
		t.Setenv("MAILDLP_PPROF", addr)
		if err := startPprof(io.Discard); err == nil {
			t.Errorf("MAILDLP_PPROF=%q accepted", addr)
		}
	}
	t.Setenv("MAILDLP_PPROF", "127.0.0.1:0")
	var out strings.Builder
	if err := startPprof(&out); err != nil || !strings.Contains(out.String(), "http://127.0.0.1:") {
		t.Errorf("MAILDLP_PPROF=127.0.0.1:0: %v, %q", err, out.String())
	}
}
