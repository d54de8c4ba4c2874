package policy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// TestNewCustomDetectors runs real messages through New: extraction, the
// built-in identifiers and keyword, regex and dictionary detectors from
// the config.
func TestNewCustomDetectors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "customers.txt"), []byte("# customers\nGlobex Corporation\nInitech\n"), 0o644)
	doc := `
internal_domains = ["example.com"]
[[detector]]
name = "codenames"
type = "keywords"
words = ["Bluebird", "Project Falcon"]
[[detector]]
name = "employee_id"
type = "regex"
pattern = '\bEMP-[0-9]{6}\b'
confidence = "high"
[[detector]]
name = "customers"
type = "dictionary"
file = "customers.txt"

[[policy]]
name = "Code names"
rule = { all = [ { detector = "codenames" }, { direction = "outbound" } ] }
redirect = { to = ["review@example.com"] }
[[policy]]
name = "Employee ids"
rule = { detector = "employee_id", min_count = 2, min_confidence = "high" }
modify = { headers = [ { name = "X-CFilter", value = "Encrypt" } ] }
[[policy]]
name = "Customer list"
rule = { detector = "customers", min_count = 2 }
quarantine = {}
[[policy]]
name = "Classified"
rule = { header = "X-Classification", matches = "(?i)^secret$" }
block = {}
`
	path := filepath.Join(dir, "maildlp.toml")
	os.WriteFile(path, []byte(doc), 0o644)
	cfg, err := config.Load(path, detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(extra, body string) string {
		return "From: a@example.com\r\nTo: b@partner.net\r\nSubject: hi\r\n" + extra + "\r\n" + body + "\r\n"
	}
	tests := []struct {
		name string
		raw  string
		rcpt string
		want action.Action
		pol  string
	}{
		{"keyword outbound", msg("", "The bluebird launch is next week."), "b@partner.net", action.Redirect, "Code names"},
		{"keyword internal", msg("", "The Bluebird launch is next week."), "c@example.com", action.Pass, ""},
		{"keyword whole word only", msg("", "Bluebirds sing."), "b@partner.net", action.Pass, ""},
		{"phrase", msg("", "Status of project falcon?"), "b@partner.net", action.Redirect, "Code names"},
		{"regex twice", msg("", "EMP-123456 and EMP-654321"), "b@partner.net", action.Modify, "Employee ids"},
		{"regex once", msg("", "EMP-123456 only"), "b@partner.net", action.Pass, ""},
		{"dictionary", msg("", "Accounts: Globex Corporation, Initech."), "b@partner.net", action.Quarantine, "Customer list"},
		{"header", msg("X-Classification: SECRET\r\n", "hello"), "b@partner.net", action.Block, "Classified"},
		{"clean", msg("", "Lunch at noon?"), "b@partner.net", action.Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := e.Evaluate(context.Background(), Message{
				Envelope: Envelope{MailFrom: "a@example.com", Rcpts: []string{tt.rcpt}},
				Body:     strings.NewReader(tt.raw),
			})
			if v.Err != nil {
				t.Fatal(v.Err)
			}
			got := ""
			if len(v.Policies) > 0 {
				got = v.Policies[0].Name
			}
			if v.Action != tt.want || got != tt.pol {
				t.Errorf("Evaluate = %v %v, want %v %q", v.Action, names(v), tt.want, tt.pol)
			}
		})
	}
}

// TestNewDetectionsListEverything: detections include identifiers no
// policy uses.
func TestNewDetectionsListEverything(t *testing.T) {
	cfg, err := config.LoadBytes("x.toml", nil, detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw := "From: a@example.com\r\nTo: b@x.org\r\nSubject: x\r\n\r\nIBAN: DE89 3704 0044 0532 0130 00 and card number 5425 2334 3010 9903\r\n"
	v := e.Evaluate(context.Background(), Message{Body: strings.NewReader(raw)})
	var types []string
	for _, d := range v.Detections {
		types = append(types, d.Type)
	}
	if v.Action != action.Pass || !slices.Contains(types, "iban") || !slices.Contains(types, "credit_card") {
		t.Errorf("no policy: action %v, detections %v; want pass with iban and credit_card", v.Action, types)
	}
	if strings.Contains(strings.Join(v.Detections[0].Evidence, " "), "0130") && strings.Contains(strings.Join(v.Detections[0].Evidence, " "), "3704") {
		t.Errorf("evidence not masked: %v", v.Detections)
	}
}

// TestNewSubjectMasked: a card number in the subject reaches a notice
// only masked, and nowhere else raw.
func TestNewSubjectMasked(t *testing.T) {
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const card = "5425233430109903"
	raw := "From: a@example.com\r\nTo: b@x.org\r\nSubject: =?utf-8?q?card_5425_2334_3010_9903_for_you?=\r\n\r\n" +
		"1: 5425233430109903 2: 4532 9150 0037 0153 3: 5424 1850 0802 2333 4: 4532 9150 0377 9327 5: 5424 1850 0814 2479\r\n"
	v := e.Evaluate(context.Background(), Message{Envelope: Envelope{AuthUser: "a"}, Body: strings.NewReader(raw)})
	if v.Action != action.Block || len(v.Notices) == 0 {
		t.Fatalf("verdict = %v %v, want block with a notice", v.Action, names(v))
	}
	out := fmt.Sprintf("%+v", v)
	for _, r := range []string{card, "5425 2334 3010 9903", "4532 9150 0037 0153", "4532915000370153"} {
		if strings.Contains(out, r) {
			t.Errorf("raw value %s in verdict: %s", r, out)
		}
	}
	if !strings.Contains(v.Notices[0].Subject, "card ****9903 for you") {
		t.Errorf("notice subject = %q, want the masked subject", v.Notices[0].Subject)
	}
}

// FuzzEvaluate runs arbitrary bytes through the whole engine with the
// default policy: it must return a verdict, never a recovered panic.
func FuzzEvaluate(f *testing.F) {
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		f.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("From: a@b.c\r\nTo: d@e.f\r\nSubject: x\r\n\r\ncard 4111 1111 1111 1111\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<b>5425</b>2334 3010 9903\r\n--x--\r\n"))
	f.Add(smallMessage())
	f.Fuzz(func(t *testing.T, data []byte) {
		v := e.Evaluate(context.Background(), Message{Body: bytes.NewReader(data)})
		if v.Err != nil && strings.Contains(v.Err.Error(), "panic") {
			t.Fatalf("panic: %v", v.Err)
		}
		if v.IncidentID == "" {
			t.Fatal("no incident id")
		}
	})
}
