// Package metrics holds the Prometheus metrics of maildlp and serves them
// over HTTP with the health endpoints:
//
//	/metrics  Prometheus text exposition (github.com/prometheus/client_golang)
//	/healthz  200 while the process runs
//	/readyz   200 once the engine is loaded and every listener is up
//
// A [Metrics] owns its own prometheus.Registry, so several instances (one
// per test) never collide. Every method is safe on a nil *Metrics, which
// records nothing.
package metrics
