package reinject

import (
	"bytes"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/quarantine/holdmark"
)

// TestIssue10HoldMark: with quarantine_action "hold" a quarantined message
// goes to its own recipients with one hold mark, made with the key and
// naming the incident; a forged incoming mark is removed from every
// message, held or not.
func TestIssue10HoldMark(t *testing.T) {
	key := []byte("0123456789abcdef")
	verdict := action.Verdict{Action: action.Quarantine, QuarantineReason: "Secrets", IncidentID: "01INC"}
	forged := "X-Maildlp-Hold: v1 i=forged s=x m=y\r\n"
	for _, tc := range []struct {
		name     string
		v        action.Verdict
		wantMark bool
	}{
		{"quarantined", verdict, true},
		{"passed", action.Verdict{Action: action.Pass}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mta := newFakeMTA(t, nil)
			cfg := reflectCfg(mta.addr())
			cfg.QuarantineAction = "hold"
			eng := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict { return tc.v }}
			_, addr := startHop(t, eng, cfg, WithHoldKey(key))
			up := dialUp(t, addr)
			up.hello()
			if got := up.sendMessage("a@example.com", []string{"b@example.com"}, forged+testMsg); !strings.HasPrefix(got, "250 ") {
				t.Fatalf("reply = %q", got)
			}
			msgs := mta.messages()
			if len(msgs) != 1 || strings.Join(msgs[0].Rcpts, ",") != "RCPT TO:<b@example.com>" {
				t.Fatalf("delivered %+v, want one to the original recipient", msgs)
			}
			data := msgs[0].Data
			if bytes.Contains(data, []byte("i=forged")) {
				t.Errorf("incoming hold mark passed on: %q", data)
			}
			n := bytes.Count(data, []byte(holdmark.Header+": "))
			if !tc.wantMark {
				if n != 0 {
					t.Errorf("%d hold marks on a message not held: %q", n, data)
				}
				return
			}
			if n != 1 {
				t.Fatalf("%d hold marks, want 1: %q", n, data)
			}
			line := data[bytes.Index(data, []byte(holdmark.Header+": ")):]
			line = line[:bytes.Index(line, []byte("\r\n"))]
			m, err := holdmark.Parse(key, strings.TrimPrefix(string(line), holdmark.Header+": "))
			if err != nil || m.IncidentID != "01INC" || m.SessionID == "" {
				t.Errorf("mark %q: %+v, %v", line, m, err)
			}
		})
	}
	t.Run("no key", func(t *testing.T) {
		cfg := reflectCfg("127.0.0.1:1")
		cfg.QuarantineAction = "hold"
		if _, err := New(func() Evaluator { return &fakeEngine{} }, cfg); err == nil || !strings.Contains(err.Error(), "hold mark key") {
			t.Fatalf("New without a key = %v", err)
		}
	})
}
