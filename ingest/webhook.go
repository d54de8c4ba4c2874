package ingest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/maildlp/maildlp/store"
)

// Webhook headers. The signature is
// "sha256=" + hex(HMAC-SHA256(key, timestamp + "." + body)), so that a
// receiver can refuse a replayed body with an old timestamp.
const (
	HeaderTimestamp = "X-Maildlp-Timestamp"
	HeaderSignature = "X-Maildlp-Signature"
)

// Sign returns the signature header value of body sent at ts (Unix
// seconds).
func Sign(key []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhook POSTs batches of incidents as JSON lines. Any answer but 2xx
// is an error: the writer retries the batch with backoff, so delivery is
// at least once and a receiver deduplicates by incident id.
type webhook struct {
	url    string
	key    []byte
	client *http.Client
	now    func() time.Time
}

func (w *webhook) Insert(ctx context.Context, ins []store.Incident) (int, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, in := range ins {
		if err := enc.Encode(in); err != nil {
			return 0, err
		}
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body.Bytes()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.key, ts, body.Bytes()))
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("webhook: %s answered %s", w.url, resp.Status)
	}
	return len(ins), nil
}
