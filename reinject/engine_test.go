package reinject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// defaultEngine compiles the built-in default configuration and policy.
func defaultEngine(t testing.TB) *policy.Engine {
	t.Helper()
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatalf("config.Default: %v", err)
	}
	e, err := policy.New(cfg)
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	return e
}

// cardNumber returns a Luhn-valid 16-digit Visa-like number that is not a
// published test value: 4929 followed by digits of seed.
func cardNumber(seed int) string {
	s := fmt.Sprintf("4929%011d", 31415926+seed*7919)
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return s + fmt.Sprint((10-sum%10)%10)
}

func crlf(b []byte) string {
	return strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n")
}

// TestDefaultPolicyThroughHop runs the real engine with the default policy.
func TestDefaultPolicyThroughHop(t *testing.T) {
	eng := defaultEngine(t)
	var logBuf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mta := newFakeMTA(t, nil)
	rec := &recorder{}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithRecorder(rec), WithLogger(log))

	oneCard := cardNumber(1)
	var five []string
	for i := 0; i < 5; i++ {
		five = append(five, cardNumber(10+i))
	}
	tests := []struct {
		name       string
		body       string
		wantReply  string
		wantAction action.Action
		delivered  bool
		wantInMsg  []string
	}{
		{"clean", "Lunch at noon?", "250 2.0.0 Ok: queued", action.Pass, true, []string{"X-Filter-Loop: Reflected\r\n"}},
		{"one card: modify", "my card number " + oneCard + " exp 12/29", "250 2.0.0 Ok: queued", action.Modify, true,
			[]string{"X-CFilter: Encrypt\r\n", "Subject: [ENCRYPT] test message\r\n"}},
		{"five cards: block", "card numbers: " + strings.Join(five, ", "), "550 5.7.1 message refused: it contains payment card numbers", action.Block, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(mta.messages())
			up := dialUp(t, addr)
			up.hello()
			got := up.sendMessage("alice@example.com", []string{"bob@example.net"}, crlf(testutil.Message(tt.body)))
			if !strings.HasPrefix(got, tt.wantReply) {
				t.Fatalf("reply = %q, want %q", got, tt.wantReply)
			}
			msgs := mta.messages()[before:]
			if tt.delivered != (len(msgs) == 1) {
				t.Fatalf("delivered %d messages, want delivered=%v", len(msgs), tt.delivered)
			}
			for _, w := range tt.wantInMsg {
				if !bytes.Contains(msgs[0].Data, []byte(w)) {
					t.Errorf("delivered message lacks %q:\n%s", w, msgs[0].Data)
				}
			}
			ds := rec.All()
			if d := ds[len(ds)-1]; d.Applied != tt.wantAction {
				t.Errorf("applied %v, want %v (verdict %+v)", d.Applied, tt.wantAction, d.Verdict)
			}
			dj, _ := json.Marshal(ds)
			for _, c := range append(five, oneCard) {
				for name, out := range map[string]string{"reply": got, "log": logBuf.String(), "decision": string(dj)} {
					if strings.Contains(out, c) {
						t.Errorf("card number leaked in %s", name)
					}
				}
			}
		})
	}
}

func BenchmarkHop(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			eng := defaultEngine(b)
			mta := newFakeMTA(b, func(f *fakeMTA) { f.discard = true })
			_, addr := startHop(b, eng, reflectCfg(mta.addr()), WithLogger(slog.New(slog.DiscardHandler)))
			line := "The quarterly report is attached; figures are preliminary and subject to review.\r\n"
			body := strings.Repeat(line, size/len(line)+1)[:size-2] + "\r\n"
			msg := "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: report\r\n" +
				"Message-ID: <bench@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
			up := dialUp(b, addr)
			up.hello()
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for b.Loop() {
				up.c.SetDeadline(time.Now().Add(time.Minute))
				if got := up.sendMessage("alice@example.com", []string{"bob@example.net"}, msg); !strings.HasPrefix(got, "250 ") {
					b.Fatalf("reply %q", got)
				}
			}
		})
	}
}
