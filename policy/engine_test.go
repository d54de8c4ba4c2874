package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// fakeToken is what the fake scanner finds: detector:value[:confidence][:test].
var fakeToken = regexp.MustCompile(`\b([a-z_]+):([0-9A-Za-z]{4,})(?::(low|medium|high))?(:test)?\b`)

// fakeScan stands in for detect.Set: it reports each token with the
// detector, confidence and test flag written in it, masks the value as
// ****last4 and keys it by a hash, as real detectors do.
func fakeScan(text string, dst []detect.Match) []detect.Match {
	for _, m := range fakeToken.FindAllStringSubmatchIndex(text, -1) {
		name, value := text[m[2]:m[3]], text[m[4]:m[5]]
		conf := detect.Medium
		if m[6] >= 0 {
			conf, _ = detect.ParseConfidence(text[m[6]:m[7]])
		}
		h := fnv.New64a()
		h.Write([]byte(value))
		dst = append(dst, detect.Match{
			Detector: name, Confidence: conf, TestValue: m[8] >= 0,
			Evidence: "****" + value[len(value)-4:], Key: h.Sum64(),
			Start: m[0], End: m[1],
		})
	}
	return dst
}

// engineFor builds an engine from an inline policy document whose
// extractor returns res.
func engineFor(t testing.TB, doc string, res *extract.Result) *Engine {
	t.Helper()
	cfg, err := config.LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"), []byte(doc), detect.IsBuiltin)
	if err != nil {
		t.Fatalf("config:\n%v", err)
	}
	e, err := compile(cfg, fakeScan, func(ctx context.Context, r io.Reader, lim extract.Limits) (*extract.Result, error) {
		io.Copy(io.Discard, r)
		if res == nil {
			return &extract.Result{}, nil
		}
		return res, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func body(text string) *extract.Result {
	return &extract.Result{Parts: []extract.Part{{Location: "body", Kind: extract.KindBody, MIMEType: "text/plain", Text: text}}}
}

func cards(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "card credit_card:55555555555544%02d ", i)
	}
	return b.String()
}

var env = Envelope{MailFrom: "alice@example.com", Rcpts: []string{"bob@partner.net"}}

const pci = `
internal_domains = ["example.com"]
[[policy]]
name = "PCI bulk"
severity = "critical"
rule.all = [ { detector = "credit_card", min_count = 5 }, { direction = "outbound" } ]
[policy.block]
text = "refused by {policy}, incident {incident_id}"
[[policy]]
name = "PCI few"
severity = "high"
rule = { detector = "credit_card", max_count = 4 }
[policy.modify]
subject_prefix = "[ENCRYPT] "
headers = [ { name = "X-CFilter", value = "Encrypt" } ]
`

func names(v action.Verdict) []string {
	var out []string
	for _, p := range v.Policies {
		out = append(out, p.Name+"="+p.Mode+"/"+p.Action.String())
	}
	return out
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		res      *extract.Result
		env      Envelope
		want     action.Action
		policies []string
	}{
		{"five cards block", pci, body(cards(5)), env, action.Block, []string{"PCI bulk=prevent/block"}},
		{"four cards modify", pci, body(cards(4)), env, action.Modify, []string{"PCI few=prevent/modify"}},
		{"duplicates count once", pci, body(cards(3) + cards(3)), env, action.Modify, []string{"PCI few=prevent/modify"}},
		{"no cards pass", pci, body("nothing here"), env, action.Pass, nil},
		{"internal direction", pci, body(cards(6)), Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@example.com", "c@sub.example.com"}}, action.Pass, nil},
		{"low confidence not counted", pci, body("credit_card:5555555555554444:low"), env, action.Pass, nil},
		{"test values not counted", pci, body("credit_card:4111111111111111:test"), env, action.Pass, nil},
		{"test values counted when asked", `
[[policy]]
name = "T"
rule = { detector = "credit_card", include_test_values = true }
[policy.quarantine]
`, body("credit_card:4111111111111111:test"), env, action.Quarantine, []string{"T=prevent/quarantine"}},
		{"min_confidence high", `
[[policy]]
name = "SSN"
rule = { detector = "us_ssn", min_confidence = "high" }
[policy.quarantine]
`, body("us_ssn:123456789 us_ssn:223456789:medium"), env, action.Pass, nil},
		{"min_confidence high met", `
[[policy]]
name = "SSN"
rule = { detector = "us_ssn", min_confidence = "high" }
[policy.quarantine]
`, body("us_ssn:123456789:high"), env, action.Quarantine, []string{"SSN=prevent/quarantine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := engineFor(t, tt.doc, tt.res)
			v := e.Evaluate(context.Background(), Message{Envelope: tt.env, Body: strings.NewReader("x")})
			if v.Err != nil {
				t.Fatal(v.Err)
			}
			if v.Action != tt.want || !slices.Equal(names(v), tt.policies) {
				t.Errorf("Evaluate = %v %v, want %v %v", v.Action, names(v), tt.want, tt.policies)
			}
		})
	}
}

// one policy per condition kind, each with its own action so the verdict
// says which matched
func TestConditions(t *testing.T) {
	type tc struct {
		name string
		rule string
		res  *extract.Result
		env  Envelope
		want bool
	}
	attach := &extract.Result{Parts: []extract.Part{
		{Location: "body", Kind: extract.KindBody, Text: "hello"},
		{Location: `attachment "Q3.XLSX" > sheet "Pay"`, Kind: extract.KindAttachment, MIMEType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Filename: "Q3.XLSX", Size: 2 << 20, Text: "x"},
		{Location: `attachment "a.zip" > "keys/db.kdbx"`, Kind: extract.KindAttachment, MIMEType: "application/octet-stream", Filename: "keys/db.kdbx", Size: 100, Text: ""},
	}}
	hdr := &extract.Result{Header: []extract.HeaderField{{Name: "X-Classification", Value: "Strictly Confidential"}}, Parts: []extract.Part{{Location: "body", Text: "x"}}}
	uns := &extract.Result{Parts: []extract.Part{{Location: "body", Text: "x"}}, Unscannable: []extract.Unscannable{{Location: `attachment "s.zip"`, Reason: extract.Encrypted}}}
	prox := &extract.Result{Parts: []extract.Part{
		{Location: "body", Text: "aba_routing:111000025 then swift_bic:DEUTDEFF"},
		{Location: "part 2", Text: "aba_routing:222000025 " + strings.Repeat("x", 400) + " swift_bic:CHASUS33"},
	}}
	tests := []tc{
		{"file_type exact", `{ file_type = ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"] }`, attach, env, true},
		{"file_type glob", `{ file_type = ["application/*"] }`, attach, env, true},
		{"file_type miss", `{ file_type = ["application/pdf"] }`, attach, env, false},
		{"filename case-insensitive", `{ filename = ["*.xlsx"] }`, attach, env, true},
		{"filename in archive", `{ filename = ["*.kdbx"] }`, attach, env, true},
		{"size min", `{ min_attachment_size = "1MiB" }`, attach, env, true},
		{"size min miss", `{ min_attachment_size = "3MiB" }`, attach, env, false},
		{"archive by name (no text of its own)", `{ filename = ["*.zip"] }`, &extract.Result{Unscannable: []extract.Unscannable{{Location: `attachment "Salaries.ZIP" > "q.csv"`, Reason: extract.Encrypted}}}, env, true},
		{"member of an unreadable archive", `{ filename = ["q.csv"] }`, &extract.Result{Unscannable: []extract.Unscannable{{Location: `attachment "s.zip" > "data/q.csv"`, Reason: extract.Encrypted}}}, env, true},
		{"picture by type", `{ file_type = ["image/*"] }`, &extract.Result{Unscannable: []extract.Unscannable{{Location: `attachment "x.png"`, Reason: extract.Unsupported, MIMEType: "image/png"}}}, env, true},
		{"sheet names are not file names", `{ filename = ["Pay"] }`, attach, env, false},
		{"size unknown never matches a size", `{ min_attachment_size = "1B" }`, &extract.Result{Unscannable: []extract.Unscannable{{Location: `attachment "x.png"`, Reason: extract.Unsupported}}}, env, false},
		{"type and size on one attachment", `{ filename = ["*.kdbx"], min_attachment_size = "1KiB" }`, attach, env, false},
		{"sender glob", `{ sender = ["*@example.com"] }`, body(""), env, true},
		{"sender miss", `{ sender = ["*@other.org"] }`, body(""), env, false},
		{"sender case", `{ sender = ["ALICE@EXAMPLE.COM"] }`, body(""), env, true},
		{"recipients any", `{ recipients = ["bob@*"] }`, body(""), Envelope{Rcpts: []string{"x@y.org", "bob@partner.net"}}, true},
		{"recipient domain and subdomain", `{ recipient_domains = ["partner.net"] }`, body(""), Envelope{Rcpts: []string{"x@mail.partner.net"}}, true},
		{"recipient domain not a suffix match", `{ recipient_domains = ["partner.net"] }`, body(""), Envelope{Rcpts: []string{"x@notpartner.net"}}, false},
		{"direction outbound", `{ direction = "outbound" }`, body(""), Envelope{Rcpts: []string{"a@example.com", "b@gmail.com"}}, true},
		{"direction internal", `{ direction = "internal" }`, body(""), Envelope{Rcpts: []string{"a@example.com"}}, true},
		{"header presence", `{ header = "x-classification" }`, hdr, env, true},
		{"header matches", `{ header = "X-Classification", matches = "(?i)confidential" }`, hdr, env, true},
		{"header contains", `{ header = "X-Classification", contains = "STRICTLY" }`, hdr, env, true},
		{"header contains miss", `{ header = "X-Classification", contains = "public" }`, hdr, env, false},
		{"unscannable any", `{ unscannable = true }`, uns, env, true},
		{"unscannable reason", `{ unscannable = ["encrypted"] }`, uns, env, true},
		{"unscannable other reason", `{ unscannable = ["timeout"] }`, uns, env, false},
		{"proximity same part", `{ proximity = ["aba_routing", "swift_bic"], within = 50 }`, prox, env, true},
		{"proximity too far", `{ proximity = ["aba_routing", "swift_bic"], within = 50, min_count = 2 }`, prox, env, false},
		{"proximity wide window", `{ proximity = ["aba_routing", "swift_bic"], within = 500, min_count = 2 }`, prox, env, true},
		{"proximity across parts never", `{ proximity = ["swift_bic", "aba_routing"], within = 100000, min_count = 2 }`, &extract.Result{Parts: []extract.Part{{Text: "swift_bic:DEUTDEFF"}, {Text: "aba_routing:111000025"}}}, env, false},
		{"all", `{ all = [ { sender = ["*@example.com"] }, { recipient_domains = ["partner.net"] } ] }`, body(""), env, true},
		{"all one false", `{ all = [ { sender = ["*@example.com"] }, { recipient_domains = ["x.org"] } ] }`, body(""), env, false},
		{"any", `{ any = [ { sender = ["*@nope.org"] }, { recipient_domains = ["partner.net"] } ] }`, body(""), env, true},
		{"none", `{ none = [ { sender = ["*@example.com"] } ] }`, body(""), env, false},
		{"nested", `{ all = [ { direction = "outbound" }, { any = [ { detector = "iban" }, { none = [ { sender = ["*@example.com"] } ] } ] } ] }`, body("iban:DE89370400440532013000"), env, true},
		{"all and none in one group", `{ all = [ { direction = "outbound" } ], none = [ { detector = "iban" } ] }`, body("iban:DE89370400440532013000"), env, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "internal_domains = [\"example.com\"]\n[[policy]]\nname = \"P\"\nrule = " + tt.rule + "\n[policy.quarantine]\n"
			e := engineFor(t, doc, tt.res)
			v := e.Evaluate(context.Background(), Message{Envelope: tt.env})
			got := slices.ContainsFunc(v.Policies, func(p action.PolicyHit) bool { return p.Name == "P" })
			if got != tt.want {
				_, ex, _ := e.Explain(context.Background(), Message{Envelope: tt.env})
				t.Errorf("rule %s matched = %v, want %v\n%s", tt.rule, got, tt.want, strings.Join(ex[0].Lines, "\n"))
			}
		})
	}
}

func TestExceptions(t *testing.T) {
	doc := `
[[policy]]
name = "P"
rule = { detector = "credit_card" }
except = { senders = ["ceo@example.com"], recipients = ["audit@bank.com"], recipient_domains = ["processor.net"], detectors = ["sample_marker"] }
[policy.block]
[[detector]]
name = "sample_marker"
type = "keywords"
words = ["SAMPLE DATA"]
`
	tests := []struct {
		name string
		env  Envelope
		text string
		want action.Action
	}{
		{"no exception", env, "credit_card:5555555555554444", action.Block},
		{"sender excepted", Envelope{MailFrom: "CEO@example.com", Rcpts: []string{"x@y.org"}}, "credit_card:5555555555554444", action.Pass},
		{"every recipient excepted", Envelope{MailFrom: "a@example.com", Rcpts: []string{"audit@bank.com", "ops@eu.processor.net"}}, "credit_card:5555555555554444", action.Pass},
		{"one recipient not excepted", Envelope{MailFrom: "a@example.com", Rcpts: []string{"audit@bank.com", "x@gmail.com"}}, "credit_card:5555555555554444", action.Block},
		{"detector excepted", env, "credit_card:5555555555554444 sample_marker:SAMPLEDATA", action.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := engineFor(t, doc, body(tt.text))
			v := e.Evaluate(context.Background(), Message{Envelope: tt.env})
			if v.Action != tt.want {
				t.Errorf("Evaluate = %v, want %v", v.Action, tt.want)
			}
		})
	}
}

const precedence = `
[[policy]]
name = "notify"
rule = { detector = "a_det" }
notify = { to = ["dlp@example.com"] }
[[policy]]
name = "modify"
rule = { detector = "b_det" }
modify = { subject_prefix = "[SECURE] ", headers = [ { name = "X-CFilter", value = "Encrypt" } ] }
[[policy]]
name = "modify2"
rule = { detector = "b_det" }
modify = { subject_prefix = "[SECURE] ", headers = [ { name = "X-CFilter", value = "Encrypt" }, { name = "X-DLP", value = "1" } ] }
[[policy]]
name = "redirect"
rule = { detector = "c_det" }
redirect = { to = ["review@example.com"] }
[[policy]]
name = "quarantine"
rule = { detector = "d_det" }
quarantine = { reason = "held by {policy} ({incident_id})" }
[[policy]]
name = "tempfail"
rule = { detector = "e_det" }
tempfail = {}
[[policy]]
name = "block"
rule = { detector = "f_det" }
block = { code = 554, enhanced = "5.7.0", text = "no: {policy} {incident_id}" }
`

func TestPrecedence(t *testing.T) {
	// custom detector names must exist: declare them as keyword detectors
	doc := precedence
	for _, d := range []string{"a_det", "b_det", "c_det", "d_det", "e_det", "f_det"} {
		doc += fmt.Sprintf("[[detector]]\nname = %q\ntype = \"keywords\"\nwords = [\"unused\"]\n", d)
	}
	tests := []struct {
		text string
		want action.Action
	}{
		{"a_det:xxxx1", action.Notify},
		{"a_det:xxxx1 b_det:xxxx2", action.Modify},
		{"a_det:xxxx1 b_det:xxxx2 c_det:xxxx3", action.Redirect},
		{"b_det:xxxx2 c_det:xxxx3 d_det:xxxx4", action.Quarantine},
		{"d_det:xxxx4 e_det:xxxx5", action.TempFail},
		{"a_det:xxxx1 b_det:xxxx2 c_det:xxxx3 d_det:xxxx4 e_det:xxxx5 f_det:xxxx6", action.Block},
	}
	for _, tt := range tests {
		e := engineFor(t, doc, body(tt.text))
		v := e.Evaluate(context.Background(), Message{Envelope: env})
		if v.Action != tt.want {
			t.Errorf("%s: action = %v, want %v", tt.text, v.Action, tt.want)
		}
		switch v.Action {
		case action.Block:
			want := action.Reply{Code: 554, Enhanced: "5.7.0", Text: "no: block " + v.IncidentID}
			if v.Reply != want {
				t.Errorf("reply = %+v, want %+v", v.Reply, want)
			}
			if v.AddHeaders != nil || v.SubjectPrefix != "" || v.RedirectTo != nil {
				t.Errorf("block verdict carries changes: %+v", v)
			}
			if len(v.Notices) != 1 {
				t.Errorf("notices = %d, want 1 (notify runs whatever the action)", len(v.Notices))
			}
		case action.TempFail:
			want := action.Reply{Code: 451, Enhanced: "4.7.1", Text: "message deferred by data protection policy tempfail (incident " + v.IncidentID + ")"}
			if v.Reply != want {
				t.Errorf("reply = %+v, want %+v", v.Reply, want)
			}
		case action.Quarantine:
			if want := "held by quarantine (" + v.IncidentID + ")"; v.QuarantineReason != want {
				t.Errorf("quarantine reason = %q, want %q", v.QuarantineReason, want)
			}
			if len(v.AddHeaders) != 2 {
				t.Errorf("quarantined message headers = %v, want the 2 modify headers", v.AddHeaders)
			}
		case action.Redirect:
			if !slices.Equal(v.RedirectTo, []string{"review@example.com"}) {
				t.Errorf("redirect to = %v", v.RedirectTo)
			}
		case action.Modify:
			if v.SubjectPrefix != "[SECURE] " {
				t.Errorf("subject prefix = %q, want one [SECURE] ", v.SubjectPrefix)
			}
			want := []action.Header{{Name: "X-CFilter", Value: "Encrypt"}, {Name: "X-DLP", Value: "1"}}
			if !slices.Equal(v.AddHeaders, want) {
				t.Errorf("headers = %v, want %v (deduplicated)", v.AddHeaders, want)
			}
		}
	}
}

func TestMonitorAndTrial(t *testing.T) {
	monitor := strings.Replace(pci, `severity = "critical"`, "severity = \"critical\"\nmode = \"monitor\"", 1)
	e := engineFor(t, monitor, body(cards(6)))
	v := e.Evaluate(context.Background(), Message{Envelope: env})
	if v.Action != action.Pass || !slices.Equal(names(v), []string{"PCI bulk=monitor/block"}) {
		t.Errorf("monitor: %v %v, want pass with PCI bulk=monitor/block", v.Action, names(v))
	}
	if v.Reply != (action.Reply{}) || len(v.Notices) != 0 {
		t.Errorf("monitor verdict has a reply or notices: %+v", v)
	}

	e = engineFor(t, "trial_mode = true\n"+pci, body(cards(6)))
	v = e.Evaluate(context.Background(), Message{Envelope: env})
	if v.Action != action.Pass || !slices.Equal(names(v), []string{"PCI bulk=monitor/block"}) {
		t.Errorf("trial: %v %v", v.Action, names(v))
	}

	uns := &extract.Result{Unscannable: []extract.Unscannable{{Location: "attachment \"x.zip\"", Reason: extract.TooLarge}}}
	e = engineFor(t, "trial_mode = true\nunscannable = \"block\"\n"+pci, uns)
	v = e.Evaluate(context.Background(), Message{Envelope: env})
	if v.Action != action.Pass || !slices.Equal(names(v), []string{UnscannablePolicy + "=monitor/block"}) {
		t.Errorf("trial unscannable: %v %v", v.Action, names(v))
	}
}

func TestUnscannableOutcome(t *testing.T) {
	uns := &extract.Result{Parts: []extract.Part{{Location: "body", Text: "x"}}, Unscannable: []extract.Unscannable{{Location: `attachment "s.zip"`, Reason: extract.Encrypted}}}
	picture := &extract.Result{Unscannable: []extract.Unscannable{{Location: `attachment "logo.png"`, Reason: extract.Unsupported, MIMEType: "image/png"}}}
	sevenZip := &extract.Result{Unscannable: []extract.Unscannable{{Location: `attachment "a.7z"`, Reason: extract.Unsupported, MIMEType: "application/x-7z-compressed"}}}
	covered := `
[[policy]]
name = "Encrypted"
rule = { unscannable = ["encrypted"] }
notify = { to = ["dlp@example.com"] }
`
	tests := []struct {
		name string
		doc  string
		res  *extract.Result
		want action.Action
		pol  []string
	}{
		{"default quarantine", pci, uns, action.Quarantine, []string{UnscannablePolicy + "=prevent/quarantine"}},
		{"configured tempfail", "unscannable = \"tempfail\"\n" + pci, uns, action.TempFail, []string{UnscannablePolicy + "=prevent/tempfail"}},
		{"configured pass", "unscannable = \"pass\"\n" + pci, uns, action.Pass, nil},
		{"covered by a policy", covered, uns, action.Notify, []string{"Encrypted=prevent/notify"}},
		{"nothing unscannable", pci, body("x"), action.Pass, nil},
		{"pictures are exempt", pci, picture, action.Pass, nil},
		{"no exemption", "unscannable_exempt_types = []\n" + pci, picture, action.Quarantine, []string{UnscannablePolicy + "=prevent/quarantine"}},
		{"unsupported archive is not exempt", pci, sevenZip, action.Quarantine, []string{UnscannablePolicy + "=prevent/quarantine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := engineFor(t, tt.doc, tt.res).Evaluate(context.Background(), Message{Envelope: env})
			if v.Action != tt.want || !slices.Equal(names(v), tt.pol) {
				t.Errorf("Evaluate = %v %v, want %v %v", v.Action, names(v), tt.want, tt.pol)
			}
			if len(v.Unscannable) != len(tt.res.Unscannable) {
				t.Errorf("verdict unscannable = %v", v.Unscannable)
			}
			if v.Action == action.Quarantine && !strings.Contains(v.QuarantineReason, v.IncidentID) {
				t.Errorf("quarantine reason %q lacks the incident id", v.QuarantineReason)
			}
		})
	}
}

func TestDetectionsAndNotices(t *testing.T) {
	doc := `
[[policy]]
name = "Cards"
severity = "high"
rule = { detector = "credit_card" }
modify = { subject_prefix = "[ENCRYPT] " }
notify = { sender = true, to = ["dlp@example.com"], subject = "{policy}: {subject}" }
`
	raw := "5555555555554444"
	res := &extract.Result{Parts: []extract.Part{
		{Location: "header:Subject", Kind: extract.KindHeader, Text: "card credit_card:" + raw + " inside"},
		{Location: `attachment "q3.xlsx" > sheet "Pay"`, Kind: extract.KindAttachment, Text: "credit_card:" + raw + ":high iban:GB82WEST12345698765432:low us_ssn:078051120:test"},
	}}
	e := engineFor(t, doc, res)
	authed := env
	authed.AuthUser = "alice" // the sender is notified only when believed
	v := e.Evaluate(context.Background(), Message{Envelope: authed})
	want := []action.Detection{
		{Type: "credit_card", Count: 1, Confidence: "high", Evidence: []string{"****4444"}, Locations: []string{"header:Subject", `attachment "q3.xlsx" > sheet "Pay"`}},
		{Type: "us_ssn", Count: 1, Confidence: "medium", TestValue: true, Evidence: []string{"****1120"}, Locations: []string{`attachment "q3.xlsx" > sheet "Pay"`}},
	}
	got, _ := json.Marshal(v.Detections)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("detections:\n got %s\nwant %s", got, exp)
	}
	if len(v.Notices) != 1 {
		t.Fatalf("notices = %v", v.Notices)
	}
	n := v.Notices[0]
	if !slices.Equal(n.To, []string{"alice@example.com", "dlp@example.com"}) {
		t.Errorf("notice to = %v", n.To)
	}
	if wantSub := "Cards: card ****4444 inside"; n.Subject != wantSub {
		t.Errorf("notice subject = %q, want %q", n.Subject, wantSub)
	}
	for _, s := range []string{v.IncidentID, "Cards (high)", "credit_card ****4444 in header:Subject"} {
		if !strings.Contains(n.Body, s) {
			t.Errorf("notice body lacks %q:\n%s", s, n.Body)
		}
	}
}

// TestNoRawValue checks that no part of a verdict or an explanation holds
// a matched value.
func TestNoRawValue(t *testing.T) {
	raws := []string{"5555555555554444", "GB82WEST12345698765432", "078051120", "AKIAIOSFODNN7ABCDEFG"}
	text := "credit_card:" + raws[0] + ":high iban:" + raws[1] + " us_ssn:" + raws[2] + " aws_access_key:" + raws[3]
	doc := `
[[policy]]
name = "Everything"
rule.any = [ { detector = "credit_card" }, { detector = "iban" }, { detector = "aws_access_key" } ]
block = {}
notify = { sender = true, subject = "{subject}", body = "{evidence} {subject} {sender} {recipients}" }
`
	res := &extract.Result{
		Header: []extract.HeaderField{{Name: "Subject", Value: "pay " + text}},
		Parts: []extract.Part{
			{Location: "header:Subject", Kind: extract.KindHeader, Text: "pay " + text},
			{Location: "body", Kind: extract.KindBody, Text: text},
		},
	}
	e := engineFor(t, doc, res)
	v, ex, _ := e.Explain(context.Background(), Message{Envelope: env})
	b, _ := json.Marshal(v)
	d, _ := json.Marshal(v.Detections)
	all := string(b) + string(d) + fmt.Sprintf("%+v %+v", v, ex)
	for _, r := range raws {
		if strings.Contains(all, r) {
			t.Errorf("raw value %s leaked:\n%s", r, all)
		}
	}
	if v.Action != action.Block {
		t.Errorf("action = %v", v.Action)
	}
}
