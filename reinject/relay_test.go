package reinject

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

func reflectCfg(to string) config.Reinject {
	return config.Reinject{Mode: config.HopReflect, ReflectTo: config.MustHostPort(to), HELOName: "hop.test"}.WithDefaults()
}

func TestRelayAddsPassHeaderAndRelaysFinalReply(t *testing.T) {
	mta := newFakeMTA(t, nil)
	eng := &fakeEngine{}
	rec := &recorder{}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithRecorder(rec))
	up := dialUp(t, addr)
	up.hello()
	got := up.sendMessage("a@example.com", []string{"b@example.com", "c@example.com"}, testMsg)
	if want := "250 2.0.0 Ok: queued as FAKE1"; got != want {
		t.Fatalf("final reply = %q, want the downstream's %q verbatim", got, want)
	}
	msgs := mta.messages()
	if len(msgs) != 1 {
		t.Fatalf("downstream got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if want := "X-Filter-Loop: Reflected\r\n" + testMsg; string(m.Data) != want {
		t.Errorf("delivered =\n%q\nwant\n%q", m.Data, want)
	}
	if m.Mail != "MAIL FROM:<a@example.com>" {
		t.Errorf("MAIL = %q", m.Mail)
	}
	if want := []string{"RCPT TO:<b@example.com>", "RCPT TO:<c@example.com>"}; strings.Join(m.Rcpts, ",") != strings.Join(want, ",") {
		t.Errorf("RCPTs = %q, want %q", m.Rcpts, want)
	}
	if bs := eng.bodies; len(bs) != 1 || string(bs[0]) != testMsg {
		t.Errorf("engine saw %q, want the message as received", bs)
	}
	ds := rec.All()
	if len(ds) != 1 || ds[0].Frontend != "reinject" || ds[0].Applied != action.Pass {
		t.Fatalf("decisions = %+v, want one reinject pass", ds)
	}
	if got := ds[0].Envelope.Rcpts; len(got) != 2 {
		t.Errorf("envelope rcpts = %q", got)
	}
	// A second transaction on the same connection uses a new downstream one.
	got = up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg)
	if got != "250 2.0.0 Ok: queued as FAKE2" {
		t.Errorf("second final reply = %q", got)
	}
	up.expect("QUIT", "221")
}

func TestPassHeaderDisabledAndIncoming(t *testing.T) {
	withPass := "X-Filter-Loop: Reflected\r\n" + testMsg
	off := false
	tests := []struct {
		name     string
		incoming string
		pass     config.PassHeader
		msg      string
		wantCode string
		want     string
	}{
		{"strip", "strip", config.PassHeader{}, "x-filter-loop: forged\r\n" + testMsg, "250", withPass},
		{"keep", "keep", config.PassHeader{}, "X-Filter-Loop: forged\r\n" + testMsg, "250", "X-Filter-Loop: Reflected\r\nX-Filter-Loop: forged\r\n" + testMsg},
		{"refuse", "refuse", config.PassHeader{}, "X-Filter-Loop: forged\r\n" + testMsg, "550 5.7.1", ""},
		{"disabled", "strip", config.PassHeader{Enabled: &off}, testMsg, "250", testMsg},
		{"custom", "strip", config.PassHeader{Name: "X-DLP", Value: "done"}, testMsg, "250", "X-DLP: done\r\n" + testMsg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mta := newFakeMTA(t, nil)
			cfg := reflectCfg(mta.addr())
			cfg.IncomingPassHeader = config.IncomingPass(tt.incoming)
			_, addr := startHop(t, &fakeEngine{}, cfg, WithPassHeader(tt.pass))
			up := dialUp(t, addr)
			up.hello()
			got := up.sendMessage("a@example.com", []string{"b@example.com"}, tt.msg)
			if !strings.HasPrefix(got, tt.wantCode) {
				t.Fatalf("final reply = %q, want %s", got, tt.wantCode)
			}
			msgs := mta.messages()
			if tt.want == "" {
				if len(msgs) != 0 {
					t.Fatalf("delivered %d messages, want none", len(msgs))
				}
				return
			}
			if len(msgs) != 1 || string(msgs[0].Data) != tt.want {
				t.Fatalf("delivered %+v, want %q", msgs, tt.want)
			}
		})
	}
}

func blockEngine() *fakeEngine {
	return &fakeEngine{decide: func(_ policy.Envelope, b []byte) action.Verdict {
		if bytes.Contains(b, []byte("secret")) {
			return action.Verdict{Action: action.Block, IncidentID: "INC1",
				Reply: action.Reply{Code: 550, Enhanced: "5.7.1", Text: "Message refused by policy Secrets (incident INC1)"}}
		}
		return action.Verdict{Action: action.Pass}
	}}
}

func TestBlockDeliversNothing(t *testing.T) {
	mta := newFakeMTA(t, nil)
	rec := &recorder{}
	_, addr := startHop(t, blockEngine(), reflectCfg(mta.addr()), WithRecorder(rec))
	up := dialUp(t, addr)
	up.hello()
	got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg+"a secret\r\n")
	if want := "550 5.7.1 Message refused by policy Secrets (incident INC1)"; got != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	if n := len(mta.messages()); n != 0 {
		t.Fatalf("downstream got %d messages, want 0", n)
	}
	for _, c := range mta.commands() {
		if c == "DATA" {
			t.Fatalf("downstream saw DATA: %q", mta.commands())
		}
	}
	if ds := rec.All(); len(ds) != 1 || ds[0].Applied != action.Block {
		t.Fatalf("decisions = %+v", ds)
	}
	// The session goes on: the next clean message is relayed.
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("next message: %q", got)
	}
	if n := len(mta.messages()); n != 1 {
		t.Fatalf("downstream got %d messages, want 1", n)
	}
}

func TestMultiLinePolicyReply(t *testing.T) {
	mta := newFakeMTA(t, nil)
	eng := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict {
		return action.Verdict{Action: action.TempFail, Reply: action.Reply{Code: 452, Enhanced: "4.7.1", Text: "first line\nsecond line"}}
	}}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg)
	if want := "452-4.7.1 first line\n452 4.7.1 second line"; got != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	if n := len(mta.messages()); n != 0 {
		t.Fatalf("downstream got %d messages, want 0", n)
	}
}

func TestRedirectReplacesRecipients(t *testing.T) {
	mta := newFakeMTA(t, nil)
	eng := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict {
		return action.Verdict{Action: action.Redirect, RedirectTo: []string{"review@example.com"},
			AddHeaders: []action.Header{{Name: "X-DLP-Redirected", Value: "yes"}}}
	}}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	got := up.sendMessage("a@example.com", []string{"b@example.com", "c@example.com"}, testMsg)
	if !strings.HasPrefix(got, "250 2.0.0 Ok: queued as FAKE1") {
		t.Fatalf("reply = %q", got)
	}
	msgs := mta.messages()
	if len(msgs) != 1 {
		t.Fatalf("downstream got %d messages, want 1", len(msgs))
	}
	if got := strings.Join(msgs[0].Rcpts, ","); got != "RCPT TO:<review@example.com>" {
		t.Errorf("delivered to %q, want only the review address", got)
	}
	if msgs[0].Mail != "MAIL FROM:<a@example.com>" {
		t.Errorf("MAIL = %q", msgs[0].Mail)
	}
	if want := "X-Filter-Loop: Reflected\r\nX-DLP-Redirected: yes\r\n" + testMsg; string(msgs[0].Data) != want {
		t.Errorf("delivered %q, want %q", msgs[0].Data, want)
	}
	cmds := strings.Join(mta.commands(), "|")
	if !strings.Contains(cmds, "RCPT TO:<c@example.com>|RSET|MAIL FROM:<a@example.com>|RCPT TO:<review@example.com>|DATA") {
		t.Errorf("downstream commands = %s", cmds)
	}
}

func TestModifySubjectAndHeaders(t *testing.T) {
	tests := []struct {
		name    string
		v       action.Verdict
		msg     string
		wantHdr string
	}{
		{"prefix", action.Verdict{Action: action.Modify, SubjectPrefix: "[DLP] "}, testMsg,
			"X-Filter-Loop: Reflected\r\nFrom: a@example.com\r\nTo: b@example.com\r\nSubject: [DLP] hello\r\n\r\n"},
		{"replace", action.Verdict{Action: action.Modify, SubjectReplace: "censored"}, testMsg,
			"X-Filter-Loop: Reflected\r\nFrom: a@example.com\r\nTo: b@example.com\r\nSubject: censored\r\n\r\n"},
		{"folded subject", action.Verdict{Action: action.Modify, SubjectPrefix: "[DLP] "},
			"Subject: long\r\n subject\r\nFrom: a@example.com\r\n\r\nbody line\r\n",
			"X-Filter-Loop: Reflected\r\nSubject: [DLP] long\r\n subject\r\nFrom: a@example.com\r\n\r\n"},
		{"no subject", action.Verdict{Action: action.Modify, SubjectPrefix: "[DLP] "},
			"From: a@example.com\r\n\r\nbody line\r\n",
			"X-Filter-Loop: Reflected\r\nFrom: a@example.com\r\nSubject: [DLP]\r\n\r\n"},
		{"non-ASCII prefix and added header", action.Verdict{Action: action.Modify, SubjectPrefix: "[vertraulich – prüfen] ",
			AddHeaders: []action.Header{{Name: "X-DLP", Value: "bad\r\nInjected: yes"}}}, testMsg,
			"X-Filter-Loop: Reflected\r\nX-DLP: badInjected: yes\r\nFrom: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?[vertraulich_=E2=80=93_pr=C3=BCfen]?= hello\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mta := newFakeMTA(t, nil)
			eng := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict { return tt.v }}
			_, addr := startHop(t, eng, reflectCfg(mta.addr()))
			up := dialUp(t, addr)
			up.hello()
			if got := up.sendMessage("a@example.com", []string{"b@example.com"}, tt.msg); !strings.HasPrefix(got, "250 ") {
				t.Fatalf("reply = %q", got)
			}
			msgs := mta.messages()
			if len(msgs) != 1 {
				t.Fatalf("delivered %d", len(msgs))
			}
			want := tt.wantHdr + "body line\r\n"
			if string(msgs[0].Data) != want {
				t.Errorf("delivered\n%q\nwant\n%q", msgs[0].Data, want)
			}
		})
	}
}

func TestQuarantine(t *testing.T) {
	q := func(policy.Envelope, []byte) action.Verdict {
		return action.Verdict{Action: action.Quarantine, QuarantineReason: "Secrets"}
	}
	t.Run("to address", func(t *testing.T) {
		mta := newFakeMTA(t, nil)
		cfg := reflectCfg(mta.addr())
		cfg.QuarantineTo = "quarantine@example.com"
		_, addr := startHop(t, &fakeEngine{decide: q}, cfg)
		up := dialUp(t, addr)
		up.hello()
		if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 ") {
			t.Fatalf("reply = %q", got)
		}
		msgs := mta.messages()
		if len(msgs) != 1 || strings.Join(msgs[0].Rcpts, ",") != "RCPT TO:<quarantine@example.com>" {
			t.Fatalf("delivered %+v, want one to the quarantine address", msgs)
		}
		if !bytes.Contains(msgs[0].Data, []byte("X-Maildlp-Quarantine: Secrets\r\n")) {
			t.Errorf("no quarantine header in %q", msgs[0].Data)
		}
	})
	for _, tc := range []struct{ action, want string }{{"tempfail", "451 4.7.1"}, {"block", "550 5.7.1"}} {
		t.Run(tc.action, func(t *testing.T) {
			mta := newFakeMTA(t, nil)
			cfg := reflectCfg(mta.addr())
			cfg.QuarantineAction = config.HopQuarantine(tc.action)
			_, addr := startHop(t, &fakeEngine{decide: q}, cfg)
			up := dialUp(t, addr)
			up.hello()
			if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, tc.want) {
				t.Fatalf("reply = %q, want %s", got, tc.want)
			}
			if n := len(mta.messages()); n != 0 {
				t.Fatalf("delivered %d, want 0", n)
			}
		})
	}
}

func TestFailureOutcomes(t *testing.T) {
	errEngine := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict {
		return action.Verdict{Action: action.Pass, Err: errTest}
	}}
	tests := []struct {
		onError   config.Outcome
		wantReply string
		delivered int
		applied   action.Action
	}{
		{config.OutcomeTempFail, "451 4.7.1", 0, action.TempFail},
		{config.OutcomeAccept, "250 ", 1, action.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.onError.String(), func(t *testing.T) {
			mta := newFakeMTA(t, nil)
			rec := &recorder{}
			_, addr := startHop(t, errEngine, reflectCfg(mta.addr()), WithRecorder(rec), WithFailure(config.Failure{OnError: tt.onError}))
			up := dialUp(t, addr)
			up.hello()
			got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg)
			if !strings.HasPrefix(got, tt.wantReply) || strings.Contains(got, errTest.Error()) {
				t.Fatalf("reply = %q, want %s without the internal error", got, tt.wantReply)
			}
			msgs := mta.messages()
			if n := len(msgs); n != tt.delivered {
				t.Fatalf("delivered %d, want %d", n, tt.delivered)
			}
			// TestIssue9: a message delivered unscanned carries no pass
			// header, as with the milter: nothing vouches for it.
			for _, m := range msgs {
				if strings.Contains(string(m.Data), "X-Filter-Loop") {
					t.Errorf("unscanned message delivered with the pass header:\n%s", m.Data)
				}
			}
			ds := rec.All()
			if len(ds) != 1 || ds[0].Applied != tt.applied || ds[0].Err == nil {
				t.Fatalf("decision = %+v, want applied %v with Err", ds, tt.applied)
			}
		})
	}
}

var errTest = &net.AddrError{Err: "engine exploded internally", Addr: "x"}

func TestDownstreamRepliesVerbatim(t *testing.T) {
	mta := newFakeMTA(t, func(f *fakeMTA) {
		f.reply = func(cmd string) string {
			switch {
			case strings.Contains(cmd, "<nouser@example.com>"):
				return "550-5.1.1 <nouser@example.com>: Recipient address rejected:\r\n550-5.1.1 see https://help.example.com/\r\n550 5.1.1 User unknown in local recipient table"
			case strings.Contains(cmd, "<nocode@example.com>"):
				return "553-first line without code\r\n553 second line"
			case strings.Contains(cmd, "<later@example.com>"):
				return "450 4.2.0 <later@example.com>: Recipient address rejected: Greylisted"
			case strings.Contains(cmd, "<bad-sender@example.com>"):
				return "553 5.7.1 <bad-sender@example.com>: Sender address rejected: not owned by user"
			}
			return ""
		}
	})
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	if got, want := up.cmd("MAIL FROM:<bad-sender@example.com>"), "553 5.7.1 <bad-sender@example.com>: Sender address rejected: not owned by user"; got != want {
		t.Errorf("MAIL reply = %q, want %q", got, want)
	}
	up.expect("MAIL FROM:<a@example.com>", "250")
	for _, tc := range []struct{ rcpt, want string }{
		{"nouser@example.com", "550-5.1.1 <nouser@example.com>: Recipient address rejected:\n550-5.1.1 see https://help.example.com/\n550 5.1.1 User unknown in local recipient table"},
		{"nocode@example.com", "553-first line without code\n553 second line"},
		{"later@example.com", "450 4.2.0 <later@example.com>: Recipient address rejected: Greylisted"},
	} {
		if got := up.cmd("RCPT TO:<" + tc.rcpt + ">"); got != tc.want {
			t.Errorf("RCPT %s reply =\n%q\nwant\n%q", tc.rcpt, got, tc.want)
		}
	}
	up.expect("RCPT TO:<ok@example.com>", "250")
	up.expect("DATA", "354")
	up.send(testMsg + ".\r\n")
	if got := up.read(); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("final = %q", got)
	}
	msgs := mta.messages()
	if len(msgs) != 1 || len(msgs[0].Rcpts) != 1 || msgs[0].Rcpts[0] != "RCPT TO:<ok@example.com>" {
		t.Fatalf("delivered %+v, want one message to ok@ only", msgs)
	}
}

func TestDownstreamFinalRejectRelayed(t *testing.T) {
	mta := newFakeMTA(t, func(f *fakeMTA) {
		f.reply = func(cmd string) string {
			if cmd == "DATA" {
				return "554-5.7.1 downstream says no\r\n554 5.7.1 really"
			}
			return ""
		}
	})
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	if got, want := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg), "554-5.7.1 downstream says no\n554 5.7.1 really"; got != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
}

func TestDownstreamUnavailable(t *testing.T) {
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := closed.Addr().String()
	closed.Close()

	t.Run("connection refused", func(t *testing.T) {
		_, addr := startHop(t, &fakeEngine{}, reflectCfg(deadAddr))
		up := dialUp(t, addr)
		up.hello()
		if got := up.cmd("MAIL FROM:<a@example.com>"); !strings.HasPrefix(got, "451 4.4.1 ") {
			t.Fatalf("MAIL reply = %q, want 451 4.4.1", got)
		}
	})
	t.Run("4xx greeting", func(t *testing.T) {
		mta := newFakeMTA(t, func(f *fakeMTA) { f.greeting = "421 4.3.2 fake.test busy" })
		_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
		up := dialUp(t, addr)
		up.hello()
		if got := up.cmd("MAIL FROM:<a@example.com>"); !strings.HasPrefix(got, "451 4.4.1 ") {
			t.Fatalf("MAIL reply = %q, want 451 4.4.1", got)
		}
	})
	t.Run("421 to RCPT", func(t *testing.T) {
		mta := newFakeMTA(t, func(f *fakeMTA) {
			f.reply = func(cmd string) string {
				if strings.HasPrefix(cmd, "RCPT") {
					return "421 4.4.2 fake.test closing"
				}
				return ""
			}
		})
		_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
		up := dialUp(t, addr)
		up.hello()
		up.expect("MAIL FROM:<a@example.com>", "250")
		if got := up.cmd("RCPT TO:<b@example.com>"); got != "451 4.4.2 fake.test closing" {
			t.Fatalf("RCPT reply = %q, want the text with 451", got)
		}
	})
	t.Run("reply line too long", func(t *testing.T) {
		mta := newFakeMTA(t, func(f *fakeMTA) {
			f.reply = func(cmd string) string {
				if strings.HasPrefix(cmd, "MAIL") {
					return "250 " + strings.Repeat("x", maxReplyLine+10)
				}
				return ""
			}
		})
		_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
		up := dialUp(t, addr)
		up.hello()
		if got := up.cmd("MAIL FROM:<a@example.com>"); !strings.HasPrefix(got, "451 4.4.2 ") {
			t.Fatalf("MAIL reply = %q, want 451 4.4.2", got)
		}
	})
	t.Run("EHLO refused: HELO, no extensions", func(t *testing.T) {
		mta := newFakeMTA(t, func(f *fakeMTA) {
			f.reply = func(cmd string) string {
				if strings.HasPrefix(cmd, "EHLO") {
					return "502 5.5.2 Error: command not recognized"
				}
				return ""
			}
		})
		_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
		up := dialUp(t, addr)
		up.hello()
		up.expect("XFORWARD ADDR=192.0.2.1", "250")
		up.expect("MAIL FROM:<a@example.com> BODY=8BITMIME SIZE=100 RET=FULL", "250")
		up.expect("RCPT TO:<b@example.com> NOTIFY=FAILURE", "250")
		up.expect("DATA", "354")
		up.send(testMsg + ".\r\n")
		if got := up.read(); !strings.HasPrefix(got, "250 ") {
			t.Fatalf("final = %q", got)
		}
		cmds := strings.Join(mta.commands(), "|")
		if want := "EHLO hop.test|HELO hop.test|MAIL FROM:<a@example.com>|RCPT TO:<b@example.com>|DATA|QUIT"; cmds != want {
			t.Errorf("downstream commands = %s, want %s", cmds, want)
		}
	})
	for _, stall := range []string{"MAIL", "DOT"} {
		t.Run("timeout at "+stall, func(t *testing.T) {
			mta := newFakeMTA(t, func(f *fakeMTA) { f.stall = stall })
			cfg := reflectCfg(mta.addr())
			cfg.Timeouts.DownstreamCommand = config.Duration(300 * time.Millisecond)
			cfg.Timeouts.DownstreamFinal = config.Duration(300 * time.Millisecond)
			_, addr := startHop(t, &fakeEngine{}, cfg)
			up := dialUp(t, addr)
			up.hello()
			var got string
			if stall == "MAIL" {
				got = up.cmd("MAIL FROM:<a@example.com>")
			} else {
				got = up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg)
			}
			if !strings.HasPrefix(got, "451 4.4.2 ") {
				t.Fatalf("reply = %q, want 451 4.4.2", got)
			}
		})
	}
}
