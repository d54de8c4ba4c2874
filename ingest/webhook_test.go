package ingest

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/store"
)

// TestIssue10WebhookSignedAndRetried sends incidents to a receiver that
// fails its first two requests: every incident arrives, in signed
// batches, after the retries.
func TestIssue10WebhookSignedAndRetried(t *testing.T) {
	key := []byte("s3cret-key")
	var mu sync.Mutex
	got := map[string]bool{}
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get(HeaderTimestamp)
		if !hmac.Equal([]byte(r.Header.Get(HeaderSignature)), []byte(Sign(key, ts, body))) || r.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Errorf("bad signature or type: %q %q", r.Header.Get(HeaderSignature), r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if Sign([]byte("other key"), ts, body) == r.Header.Get(HeaderSignature) {
			t.Error("signature does not depend on the key")
		}
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var in store.Incident
			if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
				t.Errorf("line %q: %v", sc.Bytes(), err)
			}
			got[in.ID] = true
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, append(key, '\n'), 0o600)
	cfg := storeConfig(dir)
	cfg.WebhookURL, cfg.WebhookSecretFile, cfg.WebhookTimeout = srv.URL, keyFile, config.Duration(5*time.Second)
	svc, err := start(cfg, testLog(t), nil, timing{retryMax: 20 * time.Millisecond, purgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(0)
	for i := range 150 {
		svc.Recorder().Record(decision(i))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n, c := len(got), calls
		mu.Unlock()
		if n == 150 {
			if c < 3 {
				t.Errorf("%d calls, want the two failures retried", c)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook received %d of 150 incidents in %d calls", n, c)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The store got them too.
	st, err := OpenStore(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitCount(t, st, 150, 10*time.Second)
}

func TestIssue10WebhookNeedsKey(t *testing.T) {
	dir := t.TempDir()
	cfg := storeConfig(dir)
	cfg.WebhookURL, cfg.WebhookSecretFile = "http://127.0.0.1:1/", filepath.Join(dir, "missing")
	if _, err := Start(cfg, nil, nil); err == nil {
		t.Fatal("started without the webhook key")
	}
	// The store queue was released: a second start works.
	cfg.WebhookURL = ""
	svc, err := Start(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.Close(0)
}
