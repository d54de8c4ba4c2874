package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// header is one header field, value unfolded and trimmed.
type header struct{ Name, Value string }

func (h header) String() string { return h.Name + ": " + h.Value }

// scanVerdict is the verdict of `maildlp scan --json`, in the incident
// log's shape.
type scanVerdict struct {
	IncidentID string `json:"incident_id"`
	Action     string `json:"action"`
	Policies   []struct {
		Name string `json:"name"`
	} `json:"policies"`
	Reply *struct {
		Code     int    `json:"code"`
		Enhanced string `json:"enhanced"`
		Text     string `json:"text"`
	} `json:"reply"`
	SubjectPrefix  string   `json:"subject_prefix"`
	SubjectReplace string   `json:"subject_replace"`
	AddHeaders     []header `json:"add_headers"`
	PassHeader     *header  `json:"pass_header"`
}

func (v scanVerdict) policies() string {
	var names []string
	for _, p := range v.Policies {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return fmt.Sprint(names)
}

// wire is the reply a client reads for this verdict when the front end's
// incident id is id: every line "code-enhanced text", the last with a
// space, lines joined by CRLF. "" when the verdict refuses nothing.
func (v scanVerdict) wire(id string) string {
	if v.Reply == nil {
		return ""
	}
	text := strings.ReplaceAll(v.Reply.Text, v.IncidentID, id)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		lines[i] = fmt.Sprintf("%d%s%s %s", v.Reply.Code, sep, v.Reply.Enhanced, l)
	}
	return strings.Join(lines, "\r\n")
}

// headerChanges is what a front end does to the header: the fields it
// adds and the fields it removes (a changed Subject is both).
func (v scanVerdict) headerChanges(subject string) (added, removed []string) {
	for _, h := range v.AddHeaders {
		added = append(added, h.String())
	}
	if v.PassHeader != nil {
		added = append(added, v.PassHeader.String())
	}
	newSubject := subject
	switch {
	case v.SubjectReplace != "":
		newSubject = v.SubjectReplace
	case v.SubjectPrefix != "":
		newSubject = strings.TrimRight(v.SubjectPrefix, " ") + " " + subject
	}
	if newSubject != subject {
		added = append(added, "Subject: "+newSubject)
		removed = append(removed, "Subject: "+subject)
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

// wireText is a reply as the client read it, lines joined by CRLF.
func wireText(r Reply) string {
	lines := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		sep := "-"
		if i == len(r.Lines)-1 {
			sep = " "
		}
		lines[i] = fmt.Sprintf("%d%s%s", r.Code, sep, l)
	}
	return strings.Join(lines, "\r\n")
}

// fields is the header of a message as fields, names as written, values
// unfolded, Received excepted (each MTA on the way adds its own).
func fields(data []byte) []string {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	var out []string
	for _, l := range strings.Split(string(head), "\r\n") {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(out) > 0 {
			out[len(out)-1] += " " + strings.TrimSpace(l)
			continue
		}
		out = append(out, l)
	}
	kept := out[:0]
	for _, f := range out {
		name, value, _ := strings.Cut(f, ":")
		if strings.EqualFold(name, "Received") {
			continue
		}
		kept = append(kept, header{name, strings.Join(strings.Fields(value), " ")}.String())
	}
	slices.Sort(kept)
	return kept
}

// diff is what after has that before lacks, and the reverse.
func diff(before, after []string) (added, removed []string) {
	count := map[string]int{}
	for _, f := range before {
		count[f]++
	}
	for _, f := range after {
		if count[f] > 0 {
			count[f]--
		} else {
			added = append(added, f)
		}
	}
	for f, n := range count {
		for range n {
			removed = append(removed, f)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

// frontRig is one maildlp with both front ends, each behind a Postfix of
// its own: the milter, and the hop in before-queue reflect mode (the
// client reads the hop's replies in its own session). Each Postfix relays
// to a sink of its own; notices go to a third.
type frontRig struct {
	dlp                          *Maildlp
	pfMilter, pfHop              *Postfix
	notices, milterSink, hopSink *Sink
}

// newFrontRig starts the rig; c.Milter, c.NotifyRelay and c.Reinject are
// set here, main is added to both Postfix main.cf files.
func newFrontRig(t *testing.T, c DLPConfig, main []string) *frontRig {
	t.Helper()
	r := &frontRig{notices: NewSink(t), milterSink: NewSink(t), hopSink: NewSink(t)}
	reflectPort := freePort(t)
	c.Milter = true
	c.NotifyRelay = r.notices.Addr()
	// quarantine_to: a held message is accepted by both front ends.
	c.Reinject = fmt.Sprintf("mode = \"reflect\"\nreflect_to = \"127.0.0.1:%d\"\nquarantine_to = \"quarantine@test.example\"\n", reflectPort)
	r.dlp = NewMaildlp(t, c)
	r.pfMilter = NewPostfix(t, PostfixConfig{
		Relay:     r.milterSink.Addr(),
		Main:      main,
		Fragments: []string{milterMainCF(t)},
		Rewrite:   map[string]string{"10030": strconv.Itoa(r.dlp.MilterPort)},
	})
	var beforeQueue hopVariant
	for _, v := range reflectVariants {
		if v.beforeQueue {
			beforeQueue = v
		}
	}
	r.pfHop = NewPostfix(t, PostfixConfig{
		Relay:     r.hopSink.Addr(),
		Main:      main,
		Fragments: variantFiles(t, beforeQueue),
		Rewrite: map[string]string{
			"10025": strconv.Itoa(r.dlp.HopPort),
			"10026": strconv.Itoa(reflectPort),
			"10030": strconv.Itoa(r.dlp.MilterPort),
			"9030":  strconv.Itoa(r.dlp.Metrics),
		},
	})
	return r
}

// TestConformance runs the shipped example messages through `maildlp scan
// --json`, the milter (behind Postfix) and the reinjection hop (behind
// Postfix, before-queue reflect mode), all on the same config and default
// policy. For each message the three reach the same verdict, a refusal
// reads the same byte for byte (code, enhanced code, text with each
// front end's own incident id, which its incident record names too) and a
// delivered message gets the same header changes.
func TestConformance(t *testing.T) {
	needMaildlp(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot, "contrib", "examples", "*.eml"))
	if len(files) == 0 {
		t.Fatal("no contrib/examples/*.eml to compare")
	}
	rig := newFrontRig(t, DLPConfig{}, nil)
	dlp, pfMilter, pfHop := rig.dlp, rig.pfMilter, rig.pfHop
	notices, milterSink, hopSink := rig.notices, rig.milterSink, rig.hopSink

	decisions := func(frontend string) []map[string]any {
		var out []map[string]any
		for _, l := range dlp.LogLines(`"msg":"decision"`) {
			if l["frontend"] == frontend {
				out = append(out, l)
			}
		}
		return out
	}
	// next sends one message and returns the decision the front end logged
	// for it (messages go one at a time, so it is the newest line).
	next := func(frontend string, send func() Result) (map[string]any, Result) {
		before := len(decisions(frontend))
		res := send()
		var ds []map[string]any
		if !testutil.Poll(15*time.Second, func() bool {
			ds = decisions(frontend)
			return len(ds) > before
		}) {
			t.Fatalf("%s logged no decision (SMTP: %v)\n%s", frontend, res, tail(dlp.Log(), 20))
		}
		return ds[len(ds)-1], res
	}
	policiesOf := func(d map[string]any) string {
		var names []string
		if ps, ok := d["policies"].([]any); ok {
			for _, p := range ps {
				names = append(names, fmt.Sprint(p))
			}
		}
		slices.Sort(names)
		return fmt.Sprint(names)
	}

	var replies []string
	defer func() {
		// No raw matched value reaches maildlp's log, the incident log, the
		// notices or the SMTP replies: the identifiers of the examples,
		// compared with separators removed.
		raw := []string{"4532910003701546", "5424180008082403", "536228741", "DE44500105175407324931"}
		var sent string
		for _, d := range notices.Messages() {
			sent += string(d.Data)
		}
		incidents, _ := os.ReadFile(dlp.IncidentsPath())
		for what, text := range map[string]string{"log": dlp.Log(), "incidents": string(incidents), "notices": sent, "replies": strings.Join(replies, "\n")} {
			flat := strings.NewReplacer(" ", "", "-", "", "\r\n", "", "\n", "").Replace(text)
			for _, v := range raw {
				if strings.Contains(flat, v) {
					t.Errorf("raw value %s...%s found in the %s", v[:2], v[len(v)-2:], what)
				}
			}
		}
	}()

	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			data := crlf(raw)
			msg, err := mail.ReadMessage(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			from, err := mail.ParseAddress(msg.Header.Get("From"))
			if err != nil {
				t.Fatalf("%s From: %v", name, err)
			}
			tos, err := msg.Header.AddressList("To")
			if err != nil {
				t.Fatalf("%s To: %v", name, err)
			}
			var to []string
			for _, a := range tos {
				to = append(to, a.Address)
			}

			scan := scanJSON(t, dlp.ConfigPath, from.Address, to, f)
			sinks := map[string]*Sink{"milter": milterSink, "reinject": hopSink}
			delivered := map[string]int{"milter": len(milterSink.Messages()), "reinject": len(hopSink.Messages())}
			milterD, mres := next("milter", func() Result { return SendMail(pfMilter.Addr(), from.Address, to, data) })
			hopD, hres := next("reinject", func() Result { return SendMail(pfHop.Addr(), from.Address, to, data) })
			replies = append(replies, mres.Final.Text(), hres.Final.Text())
			t.Logf("scan: %s %s; milter: %v; hop: %v", scan.Action, scan.policies(), mres, hres)

			wantAdded, wantRemoved := scan.headerChanges(strings.Join(strings.Fields(msg.Header.Get("Subject")), " "))
			for fe, run := range map[string]struct {
				d   map[string]any
				res Result
			}{"milter": {milterD, mres}, "reinject": {hopD, hres}} {
				if got := fmt.Sprint(run.d["verdict_action"]); got != scan.Action {
					t.Errorf("%s: verdict %s, scan %s", fe, got, scan.Action)
				}
				if got := policiesOf(run.d); got != scan.policies() {
					t.Errorf("%s: policies %s, scan %s", fe, got, scan.policies())
				}
				id := fmt.Sprint(run.d["incident_id"])
				if want := scan.wire(id); want != "" {
					// A refusal: byte for byte what scan says, with this
					// front end's incident id, which its incident names.
					if got := wireText(run.res.Final); got != want {
						t.Errorf("%s reply:\n got %q\nwant %q", fe, got, want)
					}
					inc := dlp.WaitIncidents(1, 10*time.Second, func(m map[string]any) bool { return m["incident_id"] == id })[0]
					if r, _ := inc["reply"].(map[string]any); r == nil || r["text"] != strings.ReplaceAll(scan.Reply.Text, scan.IncidentID, id) {
						t.Errorf("%s incident %s records reply %v, the client read %q", fe, id, inc["reply"], want)
					}
					continue
				}
				if run.res.Final.Code != 250 {
					t.Errorf("%s: %s verdict but the client got %v", fe, scan.Action, run.res)
					continue
				}
				if scan.Action == "quarantine" {
					continue // held by Postfix or sent to quarantine_to: no delivery to compare
				}
				got := sinks[fe].Wait(delivered[fe]+1, 15*time.Second, nil)
				added, removed := diff(fields(data), fields(got[len(got)-1].Data))
				if !slices.Equal(added, wantAdded) || !slices.Equal(removed, wantRemoved) {
					t.Errorf("%s header changes: added %q removed %q, scan says added %q removed %q", fe, added, removed, wantAdded, wantRemoved)
				}
			}
		})
	}
}

// scanJSON runs `maildlp scan --json` on one file.
func scanJSON(t *testing.T, cfg, from string, to []string, file string) scanVerdict {
	t.Helper()
	cmd := exec.Command(maildlpBin, "scan", "--json", "--config", cfg, "--from", from, "--to", strings.Join(to, ","), file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// Exit status 1 means "some verdict asks for an action".
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
		t.Fatalf("maildlp scan: %v\n%s", err, stderr.String())
	}
	var r struct {
		Verdict scanVerdict `json:"verdict"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("maildlp scan --json output %q: %v", stdout.String(), err)
	}
	return r.Verdict
}

// crlf turns LF line ends into CRLF.
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}
