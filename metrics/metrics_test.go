package metrics

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// scrape fetches path from the running server and returns status and body.
func scrape(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + s.Addr().String() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

func startServer(t *testing.T, m *Metrics) *Server {
	t.Helper()
	s, err := m.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testutil.Serve(t, s.Serve, s.Shutdown)
	return s
}

func TestScrapeReflectsUpdates(t *testing.T) {
	m := New()
	s := startServer(t, m)

	_, before := scrape(t, s, "/metrics")
	for _, absent := range []string{
		`maildlp_messages_total{action="block",frontend="milter"}`,
		`maildlp_detections_total{type="credit_card"}`,
	} {
		if strings.Contains(before, absent) {
			t.Fatalf("before any update, /metrics already has %s", absent)
		}
	}
	if !strings.Contains(before, `maildlp_config_reloads_total{result="failed"} 0`) {
		t.Errorf("reload series not pre-created:\n%s", before)
	}

	m.Message("milter", "block", 3*time.Millisecond)
	m.Message("milter", "block", 4*time.Millisecond)
	m.Message("reinject", "pass", time.Millisecond)
	m.Detection("credit_card", 2)
	m.Detection("credit_card", 0) // no-op
	m.Unscannable("encrypted")
	m.SessionStarted("milter")
	m.SessionStarted("milter")
	m.SessionEnded("milter")
	m.SetOutboxDepth(7)
	m.OutboxAttempt("retry")
	m.OutboxFull()
	m.Reload(true)
	m.Reload(false)
	m.Reload(false)
	m.DecisionError("reinject")
	m.IncidentWriteError()

	_, after := scrape(t, s, "/metrics")
	for _, want := range []string{
		`maildlp_messages_total{action="block",frontend="milter"} 2`,
		`maildlp_messages_total{action="pass",frontend="reinject"} 1`,
		`maildlp_detections_total{type="credit_card"} 2`,
		`maildlp_unscannable_total{reason="encrypted"} 1`,
		`maildlp_sessions_in_flight{frontend="milter"} 1`,
		`maildlp_outbox_depth 7`,
		`maildlp_outbox_attempts_total{result="retry"} 1`,
		`maildlp_outbox_refused_total 1`,
		`maildlp_config_reloads_total{result="ok"} 1`,
		`maildlp_config_reloads_total{result="failed"} 2`,
		`maildlp_scan_duration_seconds_count{frontend="milter"} 2`,
		`maildlp_scan_duration_seconds_bucket{frontend="milter",le="0.005"} 2`,
		`maildlp_decision_errors_total{frontend="reinject"} 1`,
		`maildlp_incident_write_errors_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(after, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestHealthAndReady(t *testing.T) {
	m := New()
	s := startServer(t, m)
	if code, _ := scrape(t, s, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code, _ := scrape(t, s, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before SetReady = %d, want 503", code)
	}
	m.SetReady(true)
	if code, body := scrape(t, s, "/readyz"); code != http.StatusOK || !strings.Contains(body, "ready") {
		t.Errorf("/readyz after SetReady(true) = %d %q, want 200 ready", code, body)
	}
	m.SetReady(false)
	if code, _ := scrape(t, s, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz after SetReady(false) = %d, want 503", code)
	}
}

func TestNilMetricsIsNoop(t *testing.T) {
	var m *Metrics
	m.Message("milter", "pass", time.Second)
	m.Detection("iban", 1)
	m.Unscannable("timeout")
	m.SessionStarted("milter")
	m.SessionEnded("milter")
	m.SetOutboxDepth(1)
	m.OutboxAttempt("sent")
	m.OutboxFull()
	m.Reload(true)
	m.DecisionError("milter")
	m.IncidentWriteError()
	m.SetReady(true)
	if m.Ready() {
		t.Error("nil Metrics reports ready")
	}
}

func TestInstancesAreIndependent(t *testing.T) {
	a, b := New(), New()
	a.Message("milter", "pass", 0)
	sa, sb := startServer(t, a), startServer(t, b)
	_, ba := scrape(t, sa, "/metrics")
	_, bb := scrape(t, sb, "/metrics")
	want := `maildlp_messages_total{action="pass",frontend="milter"} 1`
	if !strings.Contains(ba, want) {
		t.Errorf("first instance lacks %q", want)
	}
	if strings.Contains(bb, `maildlp_messages_total{`) {
		t.Errorf("second instance sees the first one's messages:\n%s", bb)
	}
}

// TestIssue9PanicCounter: recovered panics are counted per component in
// the instance's own registry.
func TestIssue9PanicCounter(t *testing.T) {
	m := New()
	m.Panic("engine")
	m.Panic("engine")
	m.Panic("milter")
	if got := m.Value("maildlp_panics_total", "engine"); got != 2 {
		t.Errorf("engine panics = %v, want 2", got)
	}
	if got := m.Value("maildlp_panics_total", "reinject"); got != 0 {
		t.Errorf("reinject panics = %v, want 0", got)
	}
	var none *Metrics
	none.Panic("engine") // no-op
}
