package reinject

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/metrics"
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

// panicEngine reports a panic the engine recovered: in Evaluate, or in
// an envelope-only policy at MAIL FROM.
type panicEngine struct {
	fakeEngine
	atMail bool
}

func (e *panicEngine) CheckEnvelope(policy.Envelope) (action.Verdict, bool) {
	if e.atMail {
		return action.Verdict{Err: enginePanic()}, true
	}
	return action.Verdict{}, false
}

func (e *panicEngine) CheckRecipient(policy.Envelope, string) (action.Verdict, bool) {
	return action.Verdict{}, false
}

func enginePanic() *policy.PanicError {
	return &policy.PanicError{Value: "boom\nsecond", Stack: []byte("goroutine 1 [running]:\nstack-marker()")}
}

// TestIssue9HopEnginePanic: a panic the engine recovered, also in an
// envelope-only policy (it used to be dropped without a trace), applies
// on_error after DATA, is counted in maildlp_panics_total{component=
// "engine"} of the hop's registry, and is logged in one line at error
// level with the stack at debug level only.
func TestIssue9HopEnginePanic(t *testing.T) {
	for _, atMail := range []bool{false, true} {
		eng := &panicEngine{atMail: atMail}
		if !atMail {
			eng.decide = func(policy.Envelope, []byte) action.Verdict { return action.Verdict{Err: enginePanic()} }
		}
		mta := newFakeMTA(t, nil)
		m := metrics.New()
		var logs bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		rec := &recorder{}
		_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithMetrics(m), WithLogger(log), WithRecorder(rec))
		up := dialUp(t, addr)
		up.hello()
		got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg)
		if want := "451 4.7.1 Message could not be scanned, try again later"; got != want {
			t.Errorf("at MAIL %v: reply %q, want %q", atMail, got, want)
		}
		if atMail && len(eng.envelopes()) != 0 {
			t.Errorf("Evaluate ran after a failed envelope check")
		}
		if n := m.Value("maildlp_panics_total", "engine"); n != 1 {
			t.Errorf("at MAIL %v: maildlp_panics_total{component=engine} = %v, want 1", atMail, n)
		}
		if ds := rec.All(); len(ds) != 1 || ds[0].Err == nil || strings.Contains(ds[0].Err.Error(), "\n") {
			t.Errorf("at MAIL %v: decisions %+v, want one with a one-line cause", atMail, ds)
		}
		mu.Lock()
		text := logs.String()
		mu.Unlock()
		sawError, sawStack := testutil.PanicLogged(text, "boom second", "stack-marker")
		if !sawError || !sawStack {
			t.Errorf("at MAIL %v: want a one-line error and the stack at debug level only:\n%s", atMail, text)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
