package milter

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

func TestPassStreamsExactBytesAndAddsPassHeader(t *testing.T) {
	eng := &fakeEngine{verdict: action.Verdict{Action: action.Pass}}
	rec := &recorder{}
	_, addr := startServer(t, eng, WithRecorder(rec))
	m := simpleMessage()
	// A folded header arrives with bare LF; tabs and double spaces are kept.
	m.headers = append(m.headers, [2]string{"X-Folded", "  first\n\tsecond"})
	r := m.send(t, addr)

	if r.end.Type != gomilter.ActionAccept {
		t.Fatalf("final action = %v, want accept", r.end)
	}
	want := []string{`AddHeader "X-Filter-Loop" " Reflected"`}
	if got := modStrings(r.mods); !equalStrings(got, want) {
		t.Errorf("modifications = %q, want %q", got, want)
	}
	calls, got, env := eng.snapshot()
	if calls != 1 {
		t.Errorf("Evaluate called %d times, want 1", calls)
	}
	if string(got) != m.wire() {
		t.Errorf("engine read %q, want %q", got, m.wire())
	}
	wantEnv := policy.Envelope{
		QueueID: "4XyZ1A2B3C", ClientAddr: "192.0.2.10", ClientName: "client.example.net",
		HELO: "client.example.net", AuthUser: "alice", MailFrom: "alice@example.com",
		Rcpts: []string{"bob@example.org", "carol@example.org"},
	}
	if env.QueueID != wantEnv.QueueID || env.ClientAddr != wantEnv.ClientAddr || env.ClientName != wantEnv.ClientName ||
		env.HELO != wantEnv.HELO || env.AuthUser != wantEnv.AuthUser || env.MailFrom != wantEnv.MailFrom ||
		!equalStrings(env.Rcpts, wantEnv.Rcpts) {
		t.Errorf("envelope = %+v, want %+v", env, wantEnv)
	}
	ds := waitDecisions(t, rec, 1)
	if ds[0].Applied != action.Pass || ds[0].Frontend != "milter" || ds[0].Err != nil || ds[0].Envelope.QueueID != "4XyZ1A2B3C" {
		t.Errorf("decision = %+v", ds[0])
	}
}

func TestPassHeaderConfigurable(t *testing.T) {
	off := false
	tests := []struct {
		name string
		ph   config.PassHeader
		want []string
	}{
		{"custom", config.PassHeader{Name: "X-DLP", Value: "scanned"}, []string{`AddHeader "X-DLP" " scanned"`}},
		{"disabled", config.PassHeader{Enabled: &off}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startServer(t, &fakeEngine{}, WithPassHeader(tt.ph))
			r := simpleMessage().send(t, addr)
			if got := modStrings(r.mods); !equalStrings(got, tt.want) {
				t.Errorf("modifications = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBlockAndTempFailReplies(t *testing.T) {
	tests := []struct {
		name      string
		v         action.Verdict
		wantCode  uint16
		wantReply string
	}{
		{"policy code and text", action.Verdict{Action: action.Block, IncidentID: "INC-1",
			Reply: action.Reply{Code: 554, Enhanced: "5.7.0", Text: "Card numbers may not leave, incident INC-1"}},
			554, "554 5.7.0 Card numbers may not leave, incident INC-1"},
		{"defaults", action.Verdict{Action: action.Block, IncidentID: "INC-2"},
			550, "550 5.7.1 Message refused by policy (incident INC-2)"},
		{"incident appended", action.Verdict{Action: action.Block, IncidentID: "INC-3", Reply: action.Reply{Code: 550, Enhanced: "5.7.1", Text: "Refused"}},
			550, "550 5.7.1 Refused (incident INC-3)"},
		{"multi-line", action.Verdict{Action: action.Block, IncidentID: "INC-4",
			Reply: action.Reply{Code: 550, Enhanced: "5.7.1", Text: "Refused by policy PCI\nContact the help desk\r\nincident INC-4\n"}},
			550, "550-5.7.1 Refused by policy PCI\r\n550-5.7.1 Contact the help desk\r\n550 5.7.1 incident INC-4"},
		{"percent doubled on the wire", action.Verdict{Action: action.Block, IncidentID: "INC-5",
			Reply: action.Reply{Code: 550, Enhanced: "5.7.1", Text: "100% sure: %s %d INC-5"}},
			550, "550 5.7.1 100%% sure: %%s %%d INC-5"},
		{"enhanced class fixed", action.Verdict{Action: action.Block, Reply: action.Reply{Code: 550, Enhanced: "4.7.1", Text: "x"}},
			550, "550 5.7.1 x"},
		{"bad code fixed", action.Verdict{Action: action.Block, Reply: action.Reply{Code: 250, Enhanced: "2.0.0", Text: "x"}},
			550, "550 5.7.1 x"},
		{"control characters", action.Verdict{Action: action.Block, Reply: action.Reply{Code: 550, Enhanced: "5.7.1", Text: "a\x00b\rc"}},
			550, "550 5.7.1 a b c"},
		{"tempfail", action.Verdict{Action: action.TempFail, IncidentID: "INC-6", Reply: action.Reply{Code: 421, Enhanced: "4.3.0", Text: "Busy"}},
			421, "421 4.3.0 Busy (incident INC-6)"},
		{"tempfail defaults", action.Verdict{Action: action.TempFail},
			451, "451 4.7.1 Message deferred by policy, try again later"},
		{"tempfail wrong code", action.Verdict{Action: action.TempFail, Reply: action.Reply{Code: 550, Enhanced: "5.7.1", Text: "x"}},
			451, "451 4.7.1 x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			_, addr := startServer(t, &fakeEngine{verdict: tt.v}, WithRecorder(rec))
			r := simpleMessage().send(t, addr)
			if r.end.SMTPCode != tt.wantCode || r.end.SMTPReply != tt.wantReply {
				t.Errorf("reply = %d %q, want %d %q", r.end.SMTPCode, r.end.SMTPReply, tt.wantCode, tt.wantReply)
			}
			if len(r.mods) != 0 {
				t.Errorf("modifications on a refused message: %q", modStrings(r.mods))
			}
			if ds := waitDecisions(t, rec, 1); ds[0].Applied != tt.v.Action {
				t.Errorf("applied = %v, want %v", ds[0].Applied, tt.v.Action)
			}
		})
	}
}

// postfixReply is what Postfix's milter8.c makes of a reply: "%%" becomes
// "%" and a single "%" is dropped.
func postfixReply(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			i++
			if i >= len(s) {
				break
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestReplyPercentReachesClientIntact(t *testing.T) {
	text := "Refused: 100% of 5% rule"
	resp := response(action.Render(action.Reply{Code: 550, Enhanced: "5.7.1", Text: text}, action.PolicyBlock, "", false))
	wire := resp.String()
	if !strings.Contains(wire, "100%% of 5%% rule") {
		t.Fatalf("wire reply %s does not double %%", wire)
	}
	act := strings.TrimPrefix(wire, "response=reply_code action=reject code=550 reason=")
	act = strings.Trim(act, `"`)
	if got, want := postfixReply(act), "550 5.7.1 "+text; got != want {
		t.Errorf("after Postfix unescaping = %q, want %q", got, want)
	}
}

func TestQuarantine(t *testing.T) {
	v := action.Verdict{Action: action.Quarantine, IncidentID: "INC-Q",
		Policies: []action.PolicyHit{{Name: "PCI", Action: action.Quarantine}}}
	tests := []struct {
		reason, want string
	}{
		{"", "maildlp: held by policy PCI incident INC-Q"},
		{"card data for review", "card data for review (policy PCI) incident INC-Q"},
		{"PCI hold\nsecond line INC-Q", "PCI hold second line INC-Q"},
	}
	for _, tt := range tests {
		v := v
		v.QuarantineReason = tt.reason
		_, addr := startServer(t, &fakeEngine{verdict: v})
		r := simpleMessage().send(t, addr)
		want := []string{`Quarantine "` + tt.want + `"`, `AddHeader "X-Filter-Loop" " Reflected"`}
		if got := modStrings(r.mods); !equalStrings(got, want) {
			t.Errorf("reason %q: modifications = %q, want %q", tt.reason, got, want)
		}
		if r.end.Type != gomilter.ActionAccept {
			t.Errorf("final action = %v, want accept", r.end)
		}
	}
}

func TestRedirectReplacesRecipients(t *testing.T) {
	v := action.Verdict{Action: action.Redirect, IncidentID: "INC-R", RedirectTo: []string{"review@example.com"},
		AddHeaders: []action.Header{{Name: "X-DLP-Incident", Value: "INC-R"}}}
	_, addr := startServer(t, &fakeEngine{verdict: v})
	r := simpleMessage().send(t, addr)
	want := []string{
		`DelRcpt "<bob@example.org>"`, `DelRcpt "<carol@example.org>"`, `AddRcpt "<review@example.com>" ""`,
		`AddHeader "X-DLP-Incident" " INC-R"`, `AddHeader "X-Filter-Loop" " Reflected"`,
	}
	if got := modStrings(r.mods); !equalStrings(got, want) {
		t.Errorf("modifications = %q, want %q", got, want)
	}
}

func TestRedirectWithoutAddressIsAnError(t *testing.T) {
	rec := &recorder{}
	_, addr := startServer(t, &fakeEngine{verdict: action.Verdict{Action: action.Redirect}}, WithRecorder(rec))
	r := simpleMessage().send(t, addr)
	if r.end.SMTPCode != 451 || len(r.mods) != 0 {
		t.Errorf("got %v %q, want 451 and no modifications", r.end, modStrings(r.mods))
	}
	if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrEngine) {
		t.Errorf("decision error = %v, want ErrEngine", ds[0].Err)
	}
}

func TestModifySubjectAndHeaders(t *testing.T) {
	first := [][2]string{{"Subject", " Payroll"}, {"From", " a@example.com"}, {"To", " b@example.org"}}
	later := [][2]string{{"From", " a@example.com"}, {"Subject", " Payroll"}, {"Subject", " second"}}
	tests := []struct {
		name    string
		mta     string
		headers [][2]string
		v       action.Verdict
		want    []string
	}{
		{"prefix, subject not first", "Postfix 3.7.11", later,
			action.Verdict{SubjectPrefix: "[DLP]", AddHeaders: []action.Header{{Name: "X-CFilter", Value: "Encrypt"}}},
			[]string{`ChangeHeader 1 "Subject" " [DLP] Payroll"`, `AddHeader "X-CFilter" " Encrypt"`}},
		{"prefix, subject first on Postfix", "Postfix 3.7.11", first,
			action.Verdict{SubjectPrefix: "[DLP] "},
			[]string{`ChangeHeader 1 "Subject" " [DLP] Payroll"`}},
		{"replace, subject first on Sendmail", "8.17.1", first,
			action.Verdict{SubjectReplace: "Confidential message"},
			[]string{`ChangeHeader 1 "Subject" " Confidential message"`}},
		{"no subject", "Postfix 3.7.11", [][2]string{{"From", " a@example.com"}},
			action.Verdict{SubjectPrefix: "[DLP]"},
			[]string{`AddHeader "Subject" " [DLP]"`}},
		{"headers only", "Postfix 3.7.11", later,
			action.Verdict{AddHeaders: []action.Header{{Name: "X-CFilter", Value: "Encrypt"}, {Name: "X-DLP-Policy", Value: "PII"}}},
			[]string{`AddHeader "X-CFilter" " Encrypt"`, `AddHeader "X-DLP-Policy" " PII"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			v.Action = action.Modify
			_, addr := startServer(t, &fakeEngine{verdict: v})
			m := simpleMessage()
			m.headers = tt.headers
			m.macros = defaultMacros()
			m.macros[gomilter.MacroMTAVersion] = tt.mta
			r := m.send(t, addr)
			want := append(tt.want, `AddHeader "X-Filter-Loop" " Reflected"`)
			if got := modStrings(r.mods); !equalStrings(got, want) {
				t.Errorf("modifications = %q, want %q", got, want)
			}
		})
	}
}

func TestMonitorVerdictPassesUntouched(t *testing.T) {
	// Under monitor or trial mode the engine's verdict is pass with the
	// policy hits saying what would have happened; the milter delivers
	// unchanged and records the hits.
	v := action.Verdict{Action: action.Pass, IncidentID: "INC-M",
		Policies: []action.PolicyHit{{Name: "PCI", Mode: "monitor", Action: action.Block}}}
	rec := &recorder{}
	_, addr := startServer(t, &fakeEngine{verdict: v}, WithRecorder(rec))
	r := simpleMessage().send(t, addr)
	if want := []string{`AddHeader "X-Filter-Loop" " Reflected"`}; !equalStrings(modStrings(r.mods), want) || r.end.Type != gomilter.ActionAccept {
		t.Errorf("got %v %q, want accept with %q", r.end, modStrings(r.mods), want)
	}
	ds := waitDecisions(t, rec, 1)
	if ds[0].Applied != action.Pass || len(ds[0].Verdict.Policies) != 1 || ds[0].Verdict.Policies[0].Action != action.Block {
		t.Errorf("decision = %+v, want pass with the would-be block recorded", ds[0])
	}
}

func TestEarlyDecisions(t *testing.T) {
	block := action.Verdict{Action: action.Block, IncidentID: "INC-E", Reply: action.Reply{Code: 550, Enhanced: "5.7.1", Text: "Sender not allowed"}}
	t.Run("mail from", func(t *testing.T) {
		rec := &recorder{}
		eng := &fakeEngine{envelope: func(env policy.Envelope) (action.Verdict, bool) {
			return block, env.MailFrom == "alice@example.com"
		}}
		_, addr := startServer(t, eng, WithRecorder(rec))
		r := simpleMessage().send(t, addr)
		if r.mail.SMTPCode != 550 || r.mail.SMTPReply != "550 5.7.1 Sender not allowed (incident INC-E)" {
			t.Errorf("MAIL reply = %v, want 550 with text", r.mail)
		}
		if calls, _, _ := eng.snapshot(); calls != 0 {
			t.Errorf("Evaluate called %d times after an early reject", calls)
		}
		if ds := waitDecisions(t, rec, 1); ds[0].Applied != action.Block {
			t.Errorf("decision = %+v", ds[0])
		}
	})
	t.Run("one recipient", func(t *testing.T) {
		rec := &recorder{}
		eng := &fakeEngine{rcpt: func(_ policy.Envelope, rcpt string) (action.Verdict, bool) {
			return block, rcpt == "carol@example.org"
		}}
		_, addr := startServer(t, eng, WithRecorder(rec))
		r := simpleMessage().send(t, addr)
		if len(r.rcpts) != 2 || r.rcpts[0].StopProcessing() || r.rcpts[1].SMTPCode != 550 {
			t.Fatalf("RCPT replies = %v, want continue then 550", r.rcpts)
		}
		if r.end == nil || r.end.Type != gomilter.ActionAccept {
			t.Errorf("final action = %v, want accept for the remaining recipient", r.end)
		}
		if _, _, env := eng.snapshot(); !equalStrings(env.Rcpts, []string{"bob@example.org"}) {
			t.Errorf("engine saw recipients %q, want only bob", env.Rcpts)
		}
		ds := waitDecisions(t, rec, 2)
		if !equalStrings(ds[0].Envelope.Rcpts, []string{"carol@example.org"}) || ds[0].Applied != action.Block {
			t.Errorf("recipient decision = %+v", ds[0])
		}
	})
	t.Run("not on the non-SMTP path", func(t *testing.T) {
		eng := &fakeEngine{rcpt: func(policy.Envelope, string) (action.Verdict, bool) { return block, true },
			envelope: func(policy.Envelope) (action.Verdict, bool) { return block, true }}
		_, addr := startServer(t, eng)
		m := simpleMessage()
		m.host, m.ip, m.port = "localhost", "127.0.0.1", 0
		r := m.send(t, addr)
		if r.mail.StopProcessing() || r.rcpts[0].StopProcessing() || r.end.Type != gomilter.ActionAccept {
			t.Errorf("non-SMTP mail refused early: mail %v rcpts %v end %v", r.mail, r.rcpts, r.end)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		off := false
		eng := &fakeEngine{envelope: func(policy.Envelope) (action.Verdict, bool) { return block, true }}
		_, addr := startServer(t, eng, withConfig(config.Milter{EarlyDecision: &off}))
		if r := simpleMessage().send(t, addr); r.mail.StopProcessing() {
			t.Errorf("MAIL refused with early_decision = false: %v", r.mail)
		}
	})
}

func TestFailureOutcomes(t *testing.T) {
	panicky := func(context.Context, policy.Message) action.Verdict { panic("extractor bug") }
	engineErr := func(_ context.Context, m policy.Message) action.Verdict {
		io.Copy(io.Discard, m.Body)
		return action.Verdict{Action: action.Pass, Err: errors.New("policy: broken")}
	}
	tests := []struct {
		name     string
		eval     func(context.Context, policy.Message) action.Verdict
		onError  config.Outcome
		panics   int64
		wantEnd  gomilter.ActionType
		wantCode uint16
		wantMods []string
	}{
		{"panic default tempfail", panicky, config.OutcomeTempFail, 1, gomilter.ActionRejectWithCode, 451, nil},
		{"panic accept", panicky, config.OutcomeAccept, 1, gomilter.ActionAccept, 250, nil},
		{"panic quarantine", panicky, config.OutcomeQuarantine, 1, gomilter.ActionAccept, 250, []string{`Quarantine "maildlp: message not scanned: scan error"`}},
		{"engine error", engineErr, config.OutcomeTempFail, 0, gomilter.ActionRejectWithCode, 451, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			m := metrics.New()
			_, addr := startServer(t, &fakeEngine{evaluate: tt.eval}, WithRecorder(rec), WithFailure(config.Failure{OnError: tt.onError}), WithMetrics(m))
			r := simpleMessage().send(t, addr)
			if r.end.Type != tt.wantEnd || r.end.SMTPCode != tt.wantCode {
				t.Errorf("final action = %v, want type %d code %d", r.end, tt.wantEnd, tt.wantCode)
			}
			if got := modStrings(r.mods); !equalStrings(got, tt.wantMods) {
				t.Errorf("modifications = %q, want %q (never the pass header)", got, tt.wantMods)
			}
			ds := waitDecisions(t, rec, 1)
			if !errors.Is(ds[0].Err, ErrEngine) && !strings.Contains(ds[0].Err.Error(), "broken") {
				t.Errorf("decision error = %v", ds[0].Err)
			}
			if n := m.Value("maildlp_panics_total", "milter"); n != float64(tt.panics) {
				t.Errorf("maildlp_panics_total{component=milter} = %v, want %d", n, tt.panics)
			}
		})
	}
}

func TestPanicInEnvelopeCheckAppliesOnError(t *testing.T) {
	rec := &recorder{}
	m := metrics.New()
	eng := &fakeEngine{envelope: func(policy.Envelope) (action.Verdict, bool) { panic("bad rule") }}
	_, addr := startServer(t, eng, WithRecorder(rec), WithMetrics(m))
	r := simpleMessage().send(t, addr)
	if r.end == nil || r.end.SMTPCode != 451 {
		t.Fatalf("final action = %v, want 451", r.end)
	}
	if calls, _, _ := eng.snapshot(); calls != 0 {
		t.Errorf("Evaluate ran after a failed envelope check")
	}
	if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrEngine) {
		t.Errorf("decision error = %v, want ErrEngine", ds[0].Err)
	}
	if n := m.Value("maildlp_panics_total", "milter"); n != 1 {
		t.Errorf("maildlp_panics_total{component=milter} = %v, want 1", n)
	}
}

func TestNoEngineLoaded(t *testing.T) {
	s := newServer(config.Milter{}.WithDefaults(), func() engine { return nil }, WithLogger(testutil.Logger(t)))
	ln := testutil.Listen(t)
	testutil.Serve(t, func() error { return s.Serve(ln) }, s.Shutdown)
	r := simpleMessage().send(t, ln.Addr().String())
	if r.mail.SMTPCode != 451 {
		t.Errorf("MAIL reply = %v, want 451 when no engine is loaded", r.mail)
	}
}
