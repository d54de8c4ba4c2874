package milter

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// TestIssue9SameReplyAsRenderer: every refusal the milter sends is the
// one the shared renderer writes, the bytes the reinjection hop sends for
// the same verdict, at end of message and early, with the renderer's
// default text and the incident id (compared as Postfix sends it, with
// go-milter's '%' doubling undone).
func TestIssue9SameReplyAsRenderer(t *testing.T) {
	verdicts := []action.Verdict{
		{Action: action.Block, IncidentID: "INC-1"},
		{Action: action.TempFail, IncidentID: "INC-2"},
		{Action: action.Block, IncidentID: "INC-3", Reply: action.Reply{Code: 554, Enhanced: "5.7.0", Text: "No cards\n100% blocked"}},
		{Action: action.Block, IncidentID: "INC-4", Reply: action.Reply{Code: 451, Enhanced: "4.7.1", Text: "wrong class"}},
	}
	for _, v := range verdicts {
		want := v.Refusal(v.Action, false).String()
		_, addr := startServer(t, &fakeEngine{verdict: v})
		if r := simpleMessage().send(t, addr); r.end == nil || postfixReply(r.end.SMTPReply) != want {
			t.Errorf("end of message: %v, want %q", r.end, want)
		}
		early := &fakeEngine{envelope: func(policy.Envelope) (action.Verdict, bool) { return v, true }}
		_, addr = startServer(t, early)
		if r := simpleMessage().send(t, addr); r.mail == nil || postfixReply(r.mail.SMTPReply) != want {
			t.Errorf("MAIL FROM: %v, want %q", r.mail, want)
		}
		rcpt := &fakeEngine{rcpt: func(policy.Envelope, string) (action.Verdict, bool) { return v, true }}
		_, addr = startServer(t, rcpt)
		if r := simpleMessage().send(t, addr); len(r.rcpts) == 0 || postfixReply(r.rcpts[0].SMTPReply) != want {
			t.Errorf("RCPT TO: %v, want %q", r.rcpts, want)
		}
	}
	// The early refusal without a policy text reads as the end-of-message
	// one (the hop used to say "Refused by policy").
	if got := verdicts[0].Refusal(action.Block, false).String(); got != "550 5.7.1 Message refused by policy (incident INC-1)" {
		t.Errorf("default block reply %q", got)
	}
}

// TestIssue9ReplySMTPUTF8: non-ASCII in a policy's reply text reaches the
// client only when its MAIL FROM carried SMTPUTF8 (RFC 6531 section
// 3.7.4.1); otherwise it is replaced.
func TestIssue9ReplySMTPUTF8(t *testing.T) {
	v := action.Verdict{Action: action.Block, IncidentID: "INC-U",
		Reply: action.Reply{Code: 550, Enhanced: "5.7.1", Text: "Données refusées"}}
	for _, tt := range []struct {
		args, want string
	}{
		{"", "550 5.7.1 Donn?es refus?es (incident INC-U)"},
		{"BODY=8BITMIME SMTPUTF8", "550 5.7.1 Données refusées (incident INC-U)"},
		{"smtputf8", "550 5.7.1 Données refusées (incident INC-U)"},
	} {
		_, addr := startServer(t, &fakeEngine{verdict: v})
		m := simpleMessage()
		m.mailArgs = tt.args
		r := m.send(t, addr)
		if r.end == nil || r.end.Type != gomilter.ActionRejectWithCode || r.end.SMTPReply != tt.want {
			t.Errorf("MAIL FROM args %q: %v, want %q", tt.args, r.end, tt.want)
		}
	}
}

// TestIssue9EnginePanicLoggedAndCounted: a panic the engine recovered
// (in Evaluate or in an envelope-only policy) applies on_error, is
// counted in maildlp_panics_total{component="engine"} of the server's
// registry, and is logged in one line at error level with the stack at
// debug level only; the decision's cause is one line.
func TestIssue9EnginePanicLoggedAndCounted(t *testing.T) {
	panicked := func() *policy.PanicError {
		return &policy.PanicError{Value: "boom\nsecond", Stack: []byte("goroutine 1 [running]:\nstack-marker()")}
	}
	tests := []struct {
		name string
		eng  *fakeEngine
	}{
		{"evaluate", &fakeEngine{evaluate: func(_ context.Context, m policy.Message) action.Verdict {
			io.Copy(io.Discard, m.Body)
			return action.Verdict{Action: action.Pass, IncidentID: "INC-P", Err: panicked()}
		}}},
		{"envelope", &fakeEngine{envelope: func(policy.Envelope) (action.Verdict, bool) {
			return action.Verdict{Err: panicked()}, true
		}}},
		{"recipient", &fakeEngine{rcpt: func(policy.Envelope, string) (action.Verdict, bool) {
			return action.Verdict{Err: panicked()}, true
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			m := metrics.New()
			var logs testutil.LogBuffer
			_, addr := startServer(t, tt.eng, WithRecorder(rec), WithMetrics(m), WithLogger(testutil.Logger(t, &logs)))
			r := simpleMessage().send(t, addr)
			if r.end == nil || r.end.SMTPCode != 451 || !strings.Contains(r.end.SMTPReply, "could not be scanned") {
				t.Fatalf("final action = %v, want the on_error tempfail", r.end)
			}
			if tt.name != "evaluate" {
				if calls, _, _ := tt.eng.snapshot(); calls != 0 {
					t.Errorf("Evaluate ran after a failed envelope check")
				}
			}
			ds := waitDecisions(t, rec, 1)
			if !errors.As(ds[0].Err, new(*policy.PanicError)) || strings.Contains(ds[0].Err.Error(), "\n") {
				t.Errorf("decision cause %q, want a one-line panic error", ds[0].Err)
			}
			if n := m.Value("maildlp_panics_total", "engine"); n != 1 {
				t.Errorf("maildlp_panics_total{component=engine} = %v, want 1", n)
			}
			sawError, sawStack := testutil.PanicLogged(logs.String(), "boom second", "stack-marker")
			if !sawError || !sawStack {
				t.Errorf("want a one-line error and the stack at debug level only:\n%s", logs.String())
			}
		})
	}
}

// TestIssue9MultiLineReplyKeepsPrefixes: go-milter's formatter loses the
// end of a line's "550-5.7.1 " when the line starts where its output
// buffer has 6 to 9 bytes left; the milter sends the rendered bytes
// instead, whatever the length.
func TestIssue9MultiLineReplyKeepsPrefixes(t *testing.T) {
	w := action.Wire{Code: 550, Enhanced: "5.7.1", Lines: []string{"0 (incident " + strings.Repeat("0", 61), strings.Repeat("0", 22), ")"}}
	if got := mtaReply(t, response(w)); got != w.String() {
		t.Errorf("the MTA gets %q, want %q", got, w.String())
	}
	lib, _ := gomilter.RejectWithCodeAndReason(550, "5.7.1 "+strings.Join(w.Lines, "\n"))
	t.Logf("go-milter's own formatter: %q", postfixReply(strings.TrimSuffix(string(lib.Response().Data), "\x00")))
	for n := 1; n < 3000; n += 7 {
		data := strings.Repeat("550-5.7.1 y\r\n", n/13) + "550 5.7.1 " + strings.Repeat("z", n%13)
		if resp := exactReply(550, data); resp == nil || string(resp.Response().Data) != data+"\x00" {
			t.Fatalf("exactReply for %d bytes: %v", len(data), resp)
		}
	}
}
