package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// startPprof serves the Go runtime's profiles (net/http/pprof) on the
// loopback address in MAILDLP_PPROF (for example 127.0.0.1:6060), for
// profiling under real MTA load (scripts/bench-milter.sh PPROF=1). Unset:
// nothing listens. Any address that is not a loopback IP is refused: the
// profiles show code paths and timings, and the endpoints can make the
// process work.
func startPprof(stderr io.Writer) error {
	addr := os.Getenv("MAILDLP_PPROF")
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("MAILDLP_PPROF %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("MAILDLP_PPROF %q: not a loopback IP address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("MAILDLP_PPROF: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "maildlp: pprof on http://%s/debug/pprof/\n", ln.Addr())
	go srv.Serve(ln) //nolint:errcheck // ends with the process
	return nil
}
