package reinject

import (
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// earlyEngine decides at MAIL FROM with verdict.
type earlyEngine struct {
	fakeEngine
	verdict action.Verdict
}

func (e *earlyEngine) CheckEnvelope(policy.Envelope) (action.Verdict, bool) { return e.verdict, true }
func (e *earlyEngine) CheckRecipient(policy.Envelope, string) (action.Verdict, bool) {
	return action.Verdict{}, false
}

// TestIssue9HopReplyFromRenderer: the hop's refusals, early and after
// DATA, are the shared renderer's bytes (what the milter makes Postfix
// send): the default text is "Message refused by policy" also at MAIL
// FROM, and the incident id is appended when the policy's text lacks it.
func TestIssue9HopReplyFromRenderer(t *testing.T) {
	asRead := func(w action.Wire) string { return strings.ReplaceAll(w.String(), "\r\n", "\n") }

	early := action.Verdict{Action: action.Block, IncidentID: "INC-E"}
	_, addr := startHop(t, &earlyEngine{verdict: early}, reflectCfg(newFakeMTA(t, nil).addr()))
	up := dialUp(t, addr)
	up.hello()
	if got, want := up.cmd("MAIL FROM:<a@example.com>"), asRead(early.Refusal(action.Block, false)); got != want {
		t.Errorf("MAIL FROM: %q, want %q", got, want)
	}
	if got := up.cmd("QUIT"); !strings.HasPrefix(got, "221") {
		t.Errorf("QUIT: %q", got)
	}
	if want := "550 5.7.1 Message refused by policy (incident INC-E)"; asRead(early.Refusal(action.Block, false)) != want {
		t.Errorf("default early reply is not %q", want)
	}

	for _, v := range []action.Verdict{
		{Action: action.Block, IncidentID: "INC-1", Reply: action.Reply{Code: 554, Enhanced: "5.7.0", Text: "No cards\n100% blocked"}},
		{Action: action.TempFail, IncidentID: "INC-2"},
		{Action: action.Block, IncidentID: "INC-3", Reply: action.Reply{Code: 451, Enhanced: "4.7.1", Text: "wrong class, incident INC-3"}},
	} {
		eng := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict { return v }}
		_, addr := startHop(t, eng, reflectCfg(newFakeMTA(t, nil).addr()))
		up := dialUp(t, addr)
		up.hello()
		if got, want := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg), asRead(v.Refusal(v.Action, false)); got != want {
			t.Errorf("after DATA: %q, want %q", got, want)
		}
	}
}
