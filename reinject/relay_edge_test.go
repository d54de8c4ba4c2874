package reinject

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

func TestRedactionOfMatchedValues(t *testing.T) {
	const card = "4111111111111111"
	var logBuf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mta := newFakeMTA(t, nil)
	eng := &fakeEngine{decide: func(_ policy.Envelope, b []byte) action.Verdict {
		if bytes.Contains(b, []byte(card)) {
			return action.Verdict{Action: action.Block, IncidentID: "INC9",
				Reply:      action.Reply{Code: 550, Enhanced: "5.7.1", Text: "Card data refused (incident INC9)"},
				Detections: []action.Detection{{Type: "credit_card", Count: 1, Evidence: []string{"****1111"}}}}
		}
		return action.Verdict{}
	}}
	rec := &recorder{}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithLogger(log), WithRecorder(rec))
	up := dialUp(t, addr)
	up.hello()
	got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg+"card "+card+"\r\n")
	dj, _ := json.Marshal(rec.All())
	for name, out := range map[string]string{"reply": got, "log": logBuf.String(), "decision": string(dj)} {
		if strings.Contains(out, card) {
			t.Errorf("card number leaked in %s: %s", name, out)
		}
	}
	if !strings.HasPrefix(got, "550 5.7.1 Card data refused (incident INC9)") {
		t.Errorf("reply = %q", got)
	}
}

func TestReflectRoutingVariants(t *testing.T) {
	// client IP: the hop connects from source_addr; HELO string: it greets
	// with helo_name. (Linux routes all of 127.0.0.0/8 to loopback.)
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.SourceAddr.UnmarshalText([]byte("127.0.0.2"))
	cfg.HELOName = "dlp-reflect.example.test"
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	if g := up.read(); !strings.Contains(g, "dlp-reflect.example.test") {
		t.Errorf("greeting %q does not name helo_name", g)
	}
	up.expect("EHLO client.test", "250")
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("reply = %q", got)
	}
	m := mta.messages()[0]
	if host, _, _ := net.SplitHostPort(m.Peer); host != "127.0.0.2" {
		t.Errorf("downstream saw the hop at %s, want 127.0.0.2", m.Peer)
	}
	if cmds := mta.commands(); len(cmds) == 0 || cmds[0] != "EHLO dlp-reflect.example.test" {
		t.Errorf("downstream commands = %q, want EHLO dlp-reflect.example.test first", cmds)
	}
}

// Messages larger than one chunk: a header that spans chunks (modified),
// and a body of dot lines across chunk and write boundaries.
func TestLargeMessages(t *testing.T) {
	var pad strings.Builder
	for i := 0; pad.Len() < 150<<10; i++ {
		fmt.Fprintf(&pad, "X-Pad-%d: %s\r\n", i, strings.Repeat("p", 60))
	}
	bigHeader := pad.String() + "Subject: hello\r\n\r\nbody\r\n"
	dots := "Subject: dots\r\n\r\n" + strings.Repeat(".x\r\n..\r\n.\r\n", 30000)
	tests := []struct {
		name, msg, want string
		v               action.Verdict
	}{
		{"header over chunks", bigHeader, "X-Filter-Loop: Reflected\r\n" + strings.Replace(bigHeader, "Subject: hello", "Subject: [DLP] hello", 1),
			action.Verdict{Action: action.Modify, SubjectPrefix: "[DLP] "}},
		{"dot lines over chunks", dots, "X-Filter-Loop: Reflected\r\n" + dots, action.Verdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mta := newFakeMTA(t, nil)
			eng := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict { return tt.v }}
			_, addr := startHop(t, eng, reflectCfg(mta.addr()))
			up := dialUp(t, addr)
			up.hello()
			stuffed := strings.ReplaceAll("\r\n"+tt.msg, "\r\n.", "\r\n..")[2:]
			if got := up.sendMessage("a@example.com", []string{"b@example.com"}, stuffed); !strings.HasPrefix(got, "250 ") {
				t.Fatalf("reply = %q", got)
			}
			msgs := mta.messages()
			if len(msgs) != 1 {
				t.Fatalf("delivered %d", len(msgs))
			}
			if got := string(msgs[0].Data); got != tt.want {
				t.Errorf("delivered %d bytes, want %d; first difference at %d", len(got), len(tt.want), firstDiff(got, tt.want))
			}
			if len(eng.bodies) != 1 || string(eng.bodies[0]) != tt.msg {
				t.Errorf("engine saw %d bytes, want the %d sent", len(eng.bodies[0]), len(tt.msg))
			}
		})
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// An engine that panics: the message is refused with the on_error outcome
// (tempfail), nothing is delivered, and the session goes on.
func TestEnginePanic(t *testing.T) {
	mta := newFakeMTA(t, nil)
	eng := &fakeEngine{decide: func(_ policy.Envelope, b []byte) action.Verdict {
		if bytes.Contains(b, []byte("boom")) {
			panic("detector exploded")
		}
		return action.Verdict{}
	}}
	rec := &recorder{}
	m := metrics.New()
	_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithRecorder(rec), WithMetrics(m))
	up := dialUp(t, addr)
	up.hello()
	got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg+"boom\r\n")
	if !strings.HasPrefix(got, "451 4.7.1 ") || strings.Contains(got, "exploded") {
		t.Fatalf("reply = %q, want 451 4.7.1 without the internal cause", got)
	}
	if n := m.Value("maildlp_panics_total", "reinject"); n != 1 {
		t.Errorf("maildlp_panics_total{component=reinject} = %v, want 1", n)
	}
	if n := len(mta.messages()); n != 0 {
		t.Fatalf("delivered %d", n)
	}
	if ds := rec.All(); len(ds) != 1 || ds[0].Applied != action.TempFail || ds[0].Err == nil {
		t.Fatalf("decisions = %+v", ds)
	}
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("next message: %q", got)
	}
}

// A next hop that refuses the message after the verdict must be recorded as
// what the upstream was told, with the cause, so that a notify verdict is not
// queued again on every retry and no delivery is counted.
func TestDownstreamRefusalRecordedAsApplied(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply string
		want  action.Action
	}{
		{"4xx at the final dot", "451 4.3.0 fake.test queue full", action.TempFail},
		{"5xx at the final dot", "554 5.7.1 fake.test says no", action.Block},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mta := newFakeMTA(t, func(f *fakeMTA) {
				f.reply = func(cmd string) string {
					if cmd == "DATA" {
						return tc.reply
					}
					return ""
				}
			})
			eng := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict {
				return action.Verdict{Action: action.Notify, Notices: []action.Notice{{To: []string{"sec@example.com"}, Subject: "n"}}}
			}}
			rec := &recorder{}
			_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithRecorder(rec))
			up := dialUp(t, addr)
			up.hello()
			if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); got != tc.reply {
				t.Fatalf("reply = %q, want %q", got, tc.reply)
			}
			ds := rec.All()
			if len(ds) != 1 {
				t.Fatalf("recorded %d decisions, want 1", len(ds))
			}
			if ds[0].Applied != tc.want || ds[0].Err == nil {
				t.Errorf("recorded Applied=%v Err=%v, want %v with the next hop's reply as cause", ds[0].Applied, ds[0].Err, tc.want)
			}
		})
	}
}

// The next hop's own success replies to MAIL and RCPT reach the upstream
// verbatim, multi-line included, not a fixed 250 text of the hop; pipelined
// commands keep each reply with its command.
func TestDownstreamSuccessRepliesVerbatim(t *testing.T) {
	mta := newFakeMTA(t, func(f *fakeMTA) {
		f.reply = func(cmd string) string {
			switch {
			case strings.HasPrefix(cmd, "MAIL"):
				return "250 2.1.0 sender ok at fake.test"
			case strings.HasPrefix(cmd, "RCPT TO:<b@"):
				return "250-2.1.5 b ok\r\n250 2.1.5 at fake.test"
			case strings.HasPrefix(cmd, "RCPT TO:<c@"):
				return "251 2.1.5 c will be forwarded"
			}
			return ""
		}
	})
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	if got, want := up.cmd("MAIL FROM:<a@example.com>"), "250 2.1.0 sender ok at fake.test"; got != want {
		t.Fatalf("MAIL reply = %q, want %q", got, want)
	}
	up.send("RCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\n")
	if got, want := up.read(), "250-2.1.5 b ok\n250 2.1.5 at fake.test"; got != want {
		t.Errorf("first RCPT reply = %q, want %q", got, want)
	}
	if got, want := up.read(), "251 2.1.5 c will be forwarded"; got != want {
		t.Errorf("second RCPT reply = %q, want %q", got, want)
	}
}

// TestIssue7PassHeaderFlood: past pass_header.max_incoming forged pass
// headers the hop refuses the message (or defers it with on_too_many =
// "tempfail") and relays nothing; at the limit it strips them as usual.
func TestIssue7PassHeaderFlood(t *testing.T) {
	forged := func(n int) string {
		return strings.Repeat("X-Filter-Loop: forged\r\n", n) + testMsg
	}
	tests := []struct {
		name     string
		pass     config.PassHeader
		n        int
		wantCode string
	}{
		{"at the default limit", config.PassHeader{}, config.DefaultPassHeaderMaxIncoming, "250"},
		{"one past the default limit", config.PassHeader{}, config.DefaultPassHeaderMaxIncoming + 1, "550 5.7.1 Message refused: too many X-Filter-Loop"},
		{"a flood", config.PassHeader{}, 16000, "550 5.7.1"},
		{"tempfail", config.PassHeader{MaxIncoming: 2, OnTooMany: "tempfail"}, 3, "451 4.7.1 Message deferred: too many X-Filter-Loop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mta := newFakeMTA(t, nil)
			rec := &recorder{}
			_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()), WithPassHeader(tt.pass), WithRecorder(rec))
			up := dialUp(t, addr)
			up.hello()
			got := up.sendMessage("a@example.com", []string{"b@example.com"}, forged(tt.n))
			if !strings.HasPrefix(got, tt.wantCode) {
				t.Fatalf("final reply = %q, want %s", got, tt.wantCode)
			}
			msgs := mta.messages()
			if tt.wantCode == "250" {
				if len(msgs) != 1 || string(msgs[0].Data) != "X-Filter-Loop: Reflected\r\n"+testMsg {
					t.Fatalf("delivered %+v, want the message with our pass header only", msgs)
				}
				return
			}
			if len(msgs) != 0 {
				t.Fatalf("delivered %d messages, want none", len(msgs))
			}
			if ds := rec.All(); len(ds) != 1 || !errors.Is(ds[0].Err, errPassHeaderFlood) {
				t.Fatalf("decisions = %+v, want one with errPassHeaderFlood", ds)
			}
		})
	}
}
