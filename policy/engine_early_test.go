package policy

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

func TestEvaluateRecoversPanic(t *testing.T) {
	cfg, _ := config.LoadBytes("x.toml", []byte(pci), detect.IsBuiltin)
	e, _ := compile(cfg, fakeScan, func(context.Context, io.Reader, extract.Limits) (*extract.Result, error) {
		panic("boom")
	})
	v := e.Evaluate(context.Background(), Message{Envelope: env})
	if v.Err == nil || !strings.Contains(v.Err.Error(), "boom") || v.Action != action.Pass || v.IncidentID == "" {
		t.Errorf("Evaluate after panic = %+v", v)
	}
}

func TestEvaluateExtractError(t *testing.T) {
	cfg, _ := config.LoadBytes("x.toml", []byte(pci), detect.IsBuiltin)
	e, _ := compile(cfg, fakeScan, func(context.Context, io.Reader, extract.Limits) (*extract.Result, error) {
		return nil, io.ErrUnexpectedEOF
	})
	v := e.Evaluate(context.Background(), Message{Envelope: env})
	if v.Err == nil || v.Action != action.Pass {
		t.Errorf("Evaluate on read error = %+v", v)
	}
}

func TestEnvelopeFromHeader(t *testing.T) {
	res := &extract.Result{Header: []extract.HeaderField{
		{Name: "From", Value: "Alice <alice@example.com>"},
		{Name: "To", Value: "bob@gmail.com, Carol <carol@example.com>"},
	}}
	e := engineFor(t, "internal_domains = [\"example.com\"]\n[[policy]]\nname = \"out\"\nrule = { all = [ { direction = \"outbound\" }, { sender = [\"alice@example.com\"] } ] }\nquarantine = {}\n", res)
	v := e.Evaluate(context.Background(), Message{})
	if v.Action != action.Quarantine {
		t.Errorf("scan without envelope: action = %v, want quarantine (sender and recipients from the header)", v.Action)
	}
}

func TestEarlyDecision(t *testing.T) {
	doc := `
internal_domains = ["example.com"]
[[policy]]
name = "Banned sender"
rule = { sender = ["*@spammer.org"] }
block = { text = "sender banned ({incident_id})" }
[[policy]]
name = "No competitors"
rule = { all = [ { recipient_domains = ["competitor.com"] }, { direction = "outbound" } ] }
block = {}
except = { recipients = ["legal@competitor.com"] }
[[policy]]
name = "Monitor only"
mode = "monitor"
rule = { recipient_domains = ["watch.org"] }
block = {}
[[policy]]
name = "Content"
rule = { all = [ { detector = "credit_card" }, { recipient_domains = ["content.org"] } ] }
block = {}
[[policy]]
name = "Redirect"
rule = { recipient_domains = ["redirect.org"] }
redirect = { to = ["review@example.com"] }
`
	e := engineFor(t, doc, nil)
	tests := []struct {
		name string
		from string
		rcpt string // "" -> CheckEnvelope
		want bool
	}{
		{"banned sender at MAIL", "x@spammer.org", "", true},
		{"other sender at MAIL", "x@example.com", "", false},
		{"recipient policy not at MAIL", "x@example.com", "", false},
		{"competitor at RCPT", "x@example.com", "ceo@competitor.com", true},
		{"excepted recipient", "x@example.com", "legal@competitor.com", false},
		{"monitor never early", "x@example.com", "a@watch.org", false},
		{"content policy never early", "x@example.com", "a@content.org", false},
		{"redirect never early", "x@example.com", "a@redirect.org", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v action.Verdict
			var ok bool
			if tt.rcpt == "" {
				v, ok = e.CheckEnvelope(Envelope{MailFrom: tt.from})
			} else {
				v, ok = e.CheckRecipient(Envelope{MailFrom: tt.from, Rcpts: []string{"other@x.org"}}, tt.rcpt)
			}
			if ok != tt.want {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.want, v)
			}
			if ok && (v.Action != action.Block || v.Reply.Code != 550 || v.IncidentID == "" || !strings.Contains(v.Reply.Text, v.IncidentID)) {
				t.Errorf("early verdict = %+v", v)
			}
		})
	}
	trial := engineFor(t, "trial_mode = true\n"+doc, nil)
	if _, ok := trial.CheckEnvelope(Envelope{MailFrom: "x@spammer.org"}); ok {
		t.Error("trial mode decided early")
	}
}

func TestIncidentID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := newIncidentID()
		if len(id) != 26 || strings.Trim(id, crockford) != "" {
			t.Fatalf("id %q: want 26 Crockford base32 characters", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		if id[:10] < prev {
			t.Fatalf("ids not time-ordered: %s after %s", id, prev)
		}
		prev = id[:10]
	}
}

func TestExplain(t *testing.T) {
	e := engineFor(t, pci, body(cards(2)))
	_, ex, _ := e.Explain(context.Background(), Message{Envelope: env})
	if len(ex) != 2 {
		t.Fatalf("explanations = %d, want 2", len(ex))
	}
	want := []string{
		"- all of:",
		"  - detector credit_card (confidence >= medium): 2 distinct values (want >= 5)",
		"  + direction is outbound (want outbound)",
	}
	if ex[0].Matched || !slices.Equal(ex[0].Lines, want) {
		t.Errorf("explain PCI bulk = %v\n%s\nwant\n%s", ex[0].Matched, strings.Join(ex[0].Lines, "\n"), strings.Join(want, "\n"))
	}
	if !ex[1].Matched || !slices.Equal(ex[1].Lines, []string{"+ detector credit_card (confidence >= medium): 2 distinct values (want 1 to 4)"}) {
		t.Errorf("explain PCI few = %+v", ex[1])
	}
}

// TestManyMatches: counting and proximity stay fast with 100k matches.
func TestManyMatches(t *testing.T) {
	f := newFacts(env, &extract.Result{Parts: []extract.Part{{Location: "body"}}}, nil)
	var ms []detect.Match
	for i := range 100000 {
		ms = append(ms,
			detect.Match{Detector: "credit_card", Confidence: detect.Medium, Key: uint64(i), Start: i * 40, End: i*40 + 16},
			detect.Match{Detector: "iban", Confidence: detect.Medium, Key: uint64(i), Start: i*40 + 20, End: i*40 + 38})
	}
	f.add(0, ms)
	done := make(chan [3]int)
	go func() {
		done <- [3]int{f.count("credit_card", detect.Medium, false), f.proximity("credit_card", "iban", 5, detect.Medium, false), len(f.detections())}
	}()
	select {
	case got := <-done:
		if got != [3]int{100000, 100000, 2} {
			t.Errorf("count, proximity, detections = %v, want 100000 100000 2", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("counting 100k matches took more than 20s")
	}
}

// TestProximityLongSpan: a long match (a PEM block) that starts far before
// the other detector's match but ends near it is within the window.
func TestProximityLongSpan(t *testing.T) {
	f := newFacts(env, &extract.Result{Parts: []extract.Part{{Location: "body"}, {Location: "other"}}}, nil)
	f.add(0, []detect.Match{
		{Detector: "private_key", Confidence: detect.High, Key: 1, Start: 0, End: 5000},
		{Detector: "aws_access_key", Confidence: detect.High, Key: 2, Start: 5100, End: 5120},
		{Detector: "aws_access_key", Confidence: detect.High, Key: 3, Start: 9000, End: 9020},
	})
	f.add(1, []detect.Match{{Detector: "private_key", Confidence: detect.High, Key: 4, Start: 5050, End: 5060}})
	if got := f.proximity("aws_access_key", "private_key", 200, detect.Medium, false); got != 1 {
		t.Errorf("proximity = %d, want 1 (only the key 100 characters after the block, same part)", got)
	}
	if got := f.proximity("private_key", "aws_access_key", 200, detect.Medium, false); got != 1 {
		t.Errorf("reverse proximity = %d, want 1", got)
	}
}

// TestLimitsDefaults: the config defaults are extract's defaults, and the
// configured limits reach the extractor.
func TestLimitsDefaults(t *testing.T) {
	e := engineFor(t, "", nil)
	if got, want := e.Limits(), extract.DefaultLimits(); got != want {
		t.Errorf("Limits() = %+v, want extract.DefaultLimits() %+v", got, want)
	}
	e = engineFor(t, "[limits]\nmax_message_bytes = \"1MiB\"\nmax_depth = 3\nscan_timeout = \"2s\"\n", nil)
	l := e.Limits()
	if l.MaxMessageBytes != 1<<20 || l.MaxDepth != 3 || l.ScanTimeout != 2*time.Second || l.MaxParts != 1000 {
		t.Errorf("Limits() = %+v", l)
	}
	if e.Config() == nil || e.Config().Limits.MaxDepth != 3 {
		t.Error("Config() does not return the engine's config")
	}
}
