package policy

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// TestExplainDetections: Explain says for each detection of the real
// detector set how it got its confidence, without the value.
func TestExplainDetections(t *testing.T) {
	cfg, err := config.LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"), []byte(pci), detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	msg := "Subject: x\r\n\r\nCard number 4532015112830366\r\nOrder 5555555555554444\r\nhttps://x.example/a/4916338506082832\r\n"
	_, _, ms := e.Explain(context.Background(), Message{Envelope: env, Body: strings.NewReader(msg)})
	want := map[string]string{
		"****0366": `alone medium; high: keyword "card number" 1 characters away`,
		"****4444": `alone medium; low: labelled "order"`,
		"****2832": "alone medium; low: part of a URL, path, file name or identifier",
	}
	got := map[string]string{}
	for _, m := range ms {
		if m.Detector == "credit_card" {
			got[m.Evidence] = m.Why
		}
		if strings.Contains(m.Why+m.Evidence, "4532015112830366") {
			t.Errorf("explanation shows the value: %+v", m)
		}
	}
	for ev, w := range want {
		if got[ev] != w {
			t.Errorf("why %s = %q, want %q", ev, got[ev], w)
		}
	}
}

// TestDetectionDeadline: a detector scan that gives up at the deadline
// leaves its part and the rest unscannable (timeout), never passed unread.
func TestDetectionDeadline(t *testing.T) {
	res := &extract.Result{Parts: []extract.Part{
		{Location: "body", Kind: extract.KindBody, MIMEType: "text/plain", Text: "a"},
		{Location: "body/2", Kind: extract.KindBody, MIMEType: "text/plain", Text: "b"},
	}}
	e := engineFor(t, pci, res)
	calls := 0
	e.scanUntil = func(text string, dst []detect.Match, stop func() bool) ([]detect.Match, bool) {
		calls++
		return dst, false
	}
	v := e.Evaluate(context.Background(), Message{Envelope: env})
	if calls != 1 || len(v.Unscannable) != 2 || v.Unscannable[0].Reason != string(extract.Timeout) {
		t.Fatalf("calls %d, unscannable %+v, want 1 call and both parts timed out", calls, v.Unscannable)
	}
}
