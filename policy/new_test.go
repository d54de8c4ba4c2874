package policy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
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
	cfg, err := config.Load(path)
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
	cfg, err := config.LoadBytes("x.toml", nil)
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
