package milter

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// testPolicy exercises every action with triggers that are easy to write.
const testPolicy = `
internal_domains = ["example.com"]
unscannable = "quarantine"

[[detector]]
name = "project_codename"
type = "keywords"
words = ["Nightingale", "Bluebird", "Kestrel", "Osprey", "Heron"]

[[policy]]
name = "Cards"
severity = "critical"
rule.all = [ { detector = "credit_card", min_count = 2 }, { direction = "outbound" } ]
[policy.block]
code = 554
enhanced = "5.7.0"
text = "refused: payment card data, 100% blocked (policy {policy})\nincident {incident_id}"

[[policy]]
name = "Codename Nightingale"
severity = "high"
rule = { all = [ { detector = "project_codename" }, { header = "Subject", contains = "nightingale" } ] }
[policy.quarantine]
reason = "codename in subject"

[[policy]]
name = "Codename Bluebird"
severity = "medium"
rule = { all = [ { detector = "project_codename" }, { header = "Subject", contains = "bluebird" } ] }
[policy.redirect]
to = ["review@example.com"]

[[policy]]
name = "Codename Kestrel"
severity = "medium"
rule = { all = [ { detector = "project_codename" }, { header = "Subject", contains = "kestrel" } ] }
[policy.modify]
subject_prefix = "[ENCRYPT] "
headers = [ { name = "X-CFilter", value = "Encrypt" } ]

[[policy]]
name = "Codename Osprey"
severity = "low"
rule = { all = [ { detector = "project_codename" }, { header = "Subject", contains = "osprey" } ] }
[policy.tempfail]
text = "try later"

[[policy]]
name = "Codename Heron"
severity = "low"
mode = "monitor"
rule = { all = [ { detector = "project_codename" }, { header = "Subject", contains = "heron" } ] }
[policy.block]

[[policy]]
name = "Blocked sender"
rule = { sender = ["mallory@example.com"] }
[policy.block]
text = "sender may not send outside"

[[policy]]
name = "Blocked domain"
rule = { recipient_domains = ["competitor.test"] }
[policy.block]
text = "recipient domain not allowed"
`

func realEngine(t testing.TB, doc string) *policy.Engine {
	t.Helper()
	cfg, err := config.LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"), []byte(doc), detect.IsBuiltin)
	if err != nil {
		t.Fatalf("config:\n%v", err)
	}
	e, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// defaultEngine is the engine of the embedded default config and policy.
func defaultEngine(t testing.TB) (*config.Config, *policy.Engine) {
	t.Helper()
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	e, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, e
}

func startReal(t testing.TB, e *policy.Engine, opts ...Option) string {
	t.Helper()
	ln, err := Listen("inet:127.0.0.1:0", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]Option{WithLogger(testutil.Logger(t))}, opts...)
	s := New(config.Milter{}.WithDefaults(), func() *policy.Engine { return e }, opts...)
	testutil.Serve(t, func() error { return s.Serve(ln) }, s.Shutdown)
	return ln.Addr().String()
}

// luhn completes prefix (digits) into a Luhn-valid number of length n.
func luhn(prefix string, n int) string {
	digits := []byte(prefix)
	for len(digits) < n-1 {
		digits = append(digits, byte('0'+(len(digits)*7+3)%10))
	}
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return string(digits) + string(byte('0'+(10-sum%10)%10))
}

func mail(subject, body string, rcpts ...string) mta {
	m := simpleMessage()
	m.headers = [][2]string{{"Subject", " " + subject}, {"From", " Alice <alice@example.com>"}, {"To", " bob@partner.org"}}
	m.body = []byte(strings.ReplaceAll(body, "\n", "\r\n"))
	m.rcpts = []string{"bob@partner.org"}
	if len(rcpts) > 0 {
		m.rcpts = rcpts
	}
	return m
}

func TestRealEngineActions(t *testing.T) {
	e := realEngine(t, testPolicy)
	card1, card2 := luhn("45567375", 16), luhn("52004828", 16)
	tests := []struct {
		name     string
		m        mta
		wantEnd  string // final action
		wantMods []string
		applied  action.Action
	}{
		{"clean", mail("Quarterly figures", "Revenue 1234 5678 grew 12%."),
			"Accept", []string{`AddHeader "X-Filter-Loop" " Reflected"`}, action.Pass},
		{"quarantine", mail("Nightingale plans", "About Nightingale."),
			"Accept", []string{`Quarantine "codename in subject (policy Codename Nightingale) incident *"`, `AddHeader "X-Filter-Loop" " Reflected"`}, action.Quarantine},
		{"redirect", mail("Bluebird launch", "Bluebird details.", "bob@partner.org", "dave@other.org"),
			"Accept", []string{`DelRcpt "<bob@partner.org>"`, `DelRcpt "<dave@other.org>"`, `AddRcpt "<review@example.com>" ""`, `AddHeader "X-Filter-Loop" " Reflected"`}, action.Redirect},
		{"modify, subject first", mail("Kestrel update", "Kestrel notes."),
			"Accept", []string{`ChangeHeader 1 "Subject" " [ENCRYPT] Kestrel update"`, `AddHeader "X-CFilter" " Encrypt"`, `AddHeader "X-Filter-Loop" " Reflected"`}, action.Modify},
		{"tempfail", mail("Osprey", "Osprey."),
			"RejectWithCode 451 \"451 4.7.1 try later (incident *)\"", nil, action.TempFail},
		{"monitor passes", mail("Heron", "Heron."),
			"Accept", []string{`AddHeader "X-Filter-Loop" " Reflected"`}, action.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			addr := startReal(t, e, WithRecorder(rec))
			r := tt.m.send(t, addr)
			ds := waitDecisions(t, rec, 1)
			id := ds[0].Verdict.IncidentID
			if got, want := r.end.String(), strings.ReplaceAll(tt.wantEnd, "*", id); got != want {
				t.Errorf("final action = %s, want %s", got, want)
			}
			var want []string
			for _, w := range tt.wantMods {
				want = append(want, strings.ReplaceAll(w, "*", id))
			}
			if got := modStrings(r.mods); !equalStrings(got, want) {
				t.Errorf("modifications = %q, want %q", got, want)
			}
			if ds[0].Applied != tt.applied || ds[0].Err != nil {
				t.Errorf("decision applied %v err %v, want %v", ds[0].Applied, ds[0].Err, tt.applied)
			}
		})
	}
	t.Run("block", func(t *testing.T) {
		rec := &recorder{}
		addr := startReal(t, e, WithRecorder(rec))
		r := mail("Invoice", fmt.Sprintf("Cards %s and %s on file.", card1, card2)).send(t, addr)
		id := waitDecisions(t, rec, 1)[0].Verdict.IncidentID
		want := fmt.Sprintf("554-5.7.0 refused: payment card data, 100%%%% blocked (policy Cards)\r\n554 5.7.0 incident %s", id)
		if r.end.SMTPCode != 554 || r.end.SMTPReply != want {
			t.Errorf("reply = %d %q, want %q", r.end.SMTPCode, r.end.SMTPReply, want)
		}
		if got := postfixReply(r.end.SMTPReply); !strings.Contains(got, "100% blocked") {
			t.Errorf("client sees %q", got)
		}
	})
	t.Run("monitor records what would have happened", func(t *testing.T) {
		rec := &recorder{}
		addr := startReal(t, e, WithRecorder(rec))
		mail("Heron", "Heron.").send(t, addr)
		d := waitDecisions(t, rec, 1)[0]
		if len(d.Verdict.Policies) != 1 || d.Verdict.Policies[0].Mode != "monitor" || d.Verdict.Policies[0].Action != action.Block {
			t.Errorf("recorded policies %+v, want Heron monitor/block", d.Verdict.Policies)
		}
	})
}

func TestRealEngineTrialMode(t *testing.T) {
	e := realEngine(t, "trial_mode = true\n"+testPolicy)
	rec := &recorder{}
	addr := startReal(t, e, WithRecorder(rec))
	card1, card2 := luhn("45567375", 16), luhn("52004828", 16)
	r := mail("Invoice", card1+" "+card2).send(t, addr)
	if r.end.Type != gomilter.ActionAccept || !equalStrings(modStrings(r.mods), []string{`AddHeader "X-Filter-Loop" " Reflected"`}) {
		t.Errorf("trial mode: %v %q, want delivery with only the pass header", r.end, modStrings(r.mods))
	}
	d := waitDecisions(t, rec, 1)[0]
	if d.Applied != action.Pass || len(d.Verdict.Policies) == 0 || d.Verdict.Policies[0].Action != action.Block {
		t.Errorf("decision %+v, want pass with the would-be block", d)
	}
	// Trial mode never refuses early either.
	m := mail("x", "x")
	m.from = "mallory@example.com"
	if r := m.send(t, addr); r.mail.StopProcessing() {
		t.Errorf("trial mode refused at MAIL: %v", r.mail)
	}
}

func TestRealEngineEarlyDecisions(t *testing.T) {
	e := realEngine(t, testPolicy)
	rec := &recorder{}
	addr := startReal(t, e, WithRecorder(rec))

	m := mail("hello", "hello")
	m.from = "mallory@example.com"
	r := m.send(t, addr)
	if r.mail.SMTPCode != 550 || !strings.HasPrefix(r.mail.SMTPReply, "550 5.7.1 sender may not send outside") {
		t.Errorf("MAIL reply = %v", r.mail)
	}

	m = mail("hello", "hello", "bob@partner.org", "eve@competitor.test")
	r = m.send(t, addr)
	if len(r.rcpts) != 2 || r.rcpts[0].StopProcessing() || r.rcpts[1].SMTPCode != 550 ||
		!strings.HasPrefix(r.rcpts[1].SMTPReply, "550 5.7.1 recipient domain not allowed") {
		t.Errorf("RCPT replies = %v", r.rcpts)
	}
	if r.end == nil || r.end.Type != gomilter.ActionAccept {
		t.Errorf("message to the allowed recipient: %v", r.end)
	}
	ds := waitDecisions(t, rec, 3)
	if ds[0].Applied != action.Block || ds[1].Applied != action.Block || ds[2].Applied != action.Pass {
		t.Errorf("decisions %v %v %v, want block block pass", ds[0].Applied, ds[1].Applied, ds[2].Applied)
	}
}

// TestDecisionRedacted: no raw matched value in replies, quarantine
// reasons, the recorded decision or the milter's log.
func TestDecisionRedacted(t *testing.T) {
	card1, card2 := luhn("45567375", 16), luhn("52004828", 16)
	doc := testPolicy + `
[[policy]]
name = "Any card held"
rule = { detector = "credit_card" }
[policy.quarantine]
`
	e := realEngine(t, doc)
	var logs testutil.LogBuffer
	for _, tt := range []struct {
		name string
		m    mta
	}{
		{"block", mail("Invoice", "cards "+card1+" and "+card2)},
		{"quarantine", mail("Invoice", "one card "+card1)},
		{"subject", mail("card "+card1, "hello")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			addr := startReal(t, e, WithRecorder(rec), WithLogger(testutil.Logger(t, &logs)))
			r := tt.m.send(t, addr)
			d := waitDecisions(t, rec, 1)[0]
			if d.Verdict.Action == action.Pass {
				t.Fatalf("no detection: the test proves nothing (verdict %+v)", d.Verdict)
			}
			vj, _ := json.Marshal(d.Verdict)
			outs := []string{r.end.SMTPReply, string(vj), fmt.Sprintf("%+v", d.Verdict.Detections), logs.String()}
			for _, mod := range r.mods {
				outs = append(outs, mod.Reason, mod.HeaderValue)
			}
			if d.Err != nil {
				outs = append(outs, d.Err.Error())
			}
			for _, out := range outs {
				for _, raw := range []string{card1, card2} {
					if strings.Contains(out, raw) {
						t.Errorf("card number leaked: %s", out)
					}
				}
			}
		})
	}
}

func TestRealEngineUnscannableOversize(t *testing.T) {
	// A message past max_message_bytes takes the unscannable outcome
	// (quarantine in testPolicy), never a silent pass.
	e := realEngine(t, testPolicy+"\n[limits]\nmax_message_bytes = \"64KiB\"\n")
	rec := &recorder{}
	addr := startReal(t, e, WithRecorder(rec))
	m := mail("big", strings.Repeat("business text with numbers 1234 5678 9012\n", 30000))
	r := m.send(t, addr)
	d := waitDecisions(t, rec, 1)[0]
	if r.end.Type == gomilter.ActionAccept && (len(r.mods) == 0 || r.mods[0].Type != gomilter.ActionQuarantine) {
		t.Errorf("oversize message delivered: %v %q (decision %+v)", r.end, modStrings(r.mods), d)
	}
	if d.Applied == action.Pass {
		t.Errorf("oversize message applied pass: %+v", d)
	}
	if d.Err != nil && !errors.Is(d.Err, ErrEngine) {
		t.Errorf("decision error %v", d.Err)
	}
}

func TestRealEngineSlowClientWithinScanTimeout(t *testing.T) {
	// The client takes longer than scan_timeout to send the message; the
	// scan itself is fast. scan_timeout counts the scan, not the transfer:
	// the message is scanned, not unscannable.
	e := realEngine(t, testPolicy+"\n[limits]\nscan_timeout = \"1s\"\n")
	rec := &recorder{}
	addr := startReal(t, e, WithRecorder(rec))
	m := mail("Quarterly figures", strings.Repeat("Revenue 1234 5678 grew 12% in region 42.\n", 200))
	m.bodyPause, m.bodyChunks = 300*time.Millisecond, 5
	start := time.Now()
	r := m.send(t, addr)
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Fatalf("sending took %v, want more than scan_timeout (1s)", d)
	}
	d := waitDecisions(t, rec, 1)[0]
	if d.Err != nil || d.Applied != action.Pass || len(d.Verdict.Unscannable) != 0 {
		t.Errorf("decision = applied %v err %v unscannable %+v, want a scanned pass", d.Applied, d.Err, d.Verdict.Unscannable)
	}
	if r.end.Type != gomilter.ActionAccept {
		t.Errorf("final action = %v, want accept", r.end)
	}
}
