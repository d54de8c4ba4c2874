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

// outcome is the verdict a front end reached: action and policy names.
type outcome struct {
	Action   string
	Policies []string
}

func (o outcome) String() string { return o.Action + " " + fmt.Sprint(o.Policies) }

// TestConformance runs the shipped example messages through `maildlp scan
// --json`, the milter (behind Postfix) and the reinjection hop, all on the
// same config and default policy, and checks that the three reach the same
// verdict action and policies.
func TestConformance(t *testing.T) {
	needMaildlp(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot, "contrib", "examples", "*.eml"))
	if len(files) == 0 {
		t.Fatal("no contrib/examples/*.eml to compare")
	}
	sink := NewSink(t)
	dlp := NewMaildlp(t, DLPConfig{
		Milter:      true,
		NotifyRelay: sink.Addr(),
		Reinject:    fmt.Sprintf("mode = \"forward\"\nnext_hops = [%q]\n", sink.Addr()),
	})
	pf := NewPostfix(t, PostfixConfig{
		Relay:     sink.Addr(),
		Fragments: []string{milterMainCF(t)},
		Rewrite:   map[string]string{"10030": strconv.Itoa(dlp.MilterPort)},
	})

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
	next := func(frontend string, send func() Result) (outcome, Result) {
		before := len(decisions(frontend))
		res := send()
		var ds []map[string]any
		if !testutil.Poll(15*time.Second, func() bool {
			ds = decisions(frontend)
			return len(ds) > before
		}) {
			t.Fatalf("%s logged no decision (SMTP: %v)\n%s", frontend, res, tail(dlp.Log(), 20))
		}
		d := ds[len(ds)-1]
		o := outcome{Action: fmt.Sprint(d["verdict_action"])}
		if ps, ok := d["policies"].([]any); ok {
			for _, p := range ps {
				o.Policies = append(o.Policies, fmt.Sprint(p))
			}
		}
		slices.Sort(o.Policies)
		return o, res
	}

	var replies []string
	defer func() {
		// No raw matched value reaches maildlp's log, the incident log, the
		// notices or the SMTP replies: the identifiers of the examples,
		// compared with separators removed.
		raw := []string{"4532910003701546", "5424180008082403", "536228741", "DE44500105175407324931"}
		notices := ""
		for _, d := range sink.Messages() {
			if d.From == "dlp@test.example" || strings.Contains(d.Header("Subject"), "DLP") {
				notices += string(d.Data)
			}
		}
		incidents, _ := os.ReadFile(dlp.IncidentsPath())
		for what, text := range map[string]string{"log": dlp.Log(), "incidents": string(incidents), "notices": notices, "replies": strings.Join(replies, "\n")} {
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

			scan := scanOutcome(t, dlp.ConfigPath, from.Address, to, f)
			milter, mres := next("milter", func() Result { return SendMail(pf.Addr(), from.Address, to, data) })
			hop, hres := next("reinject", func() Result { return SendMail(dlp.HopAddr(), from.Address, to, data) })
			replies = append(replies, mres.Final.Text(), hres.Final.Text())
			t.Logf("scan: %v; milter: %v (SMTP %v); hop: %v (SMTP %v)", scan, milter, mres, hop, hres)
			if milter.String() != scan.String() {
				t.Errorf("milter verdict %v, scan %v", milter, scan)
			}
			if hop.String() != scan.String() {
				t.Errorf("hop verdict %v, scan %v", hop, scan)
			}
			// What the client was told agrees with the verdict.
			for fe, res := range map[string]Result{"milter": mres, "hop": hres} {
				if scan.Action == "block" && res.Final.Class() != 5 {
					t.Errorf("%s: block verdict but the client got %v", fe, res)
				}
				if (scan.Action == "pass" || scan.Action == "modify" || scan.Action == "notify") && res.Final.Code != 250 {
					t.Errorf("%s: %s verdict but the client got %v", fe, scan.Action, res)
				}
			}
		})
	}
}

// scanOutcome runs `maildlp scan --json` on one file.
func scanOutcome(t *testing.T, cfg, from string, to []string, file string) outcome {
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
		Verdict struct {
			Action   string `json:"action"`
			Policies []struct {
				Name string `json:"name"`
			} `json:"policies"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("maildlp scan --json output %q: %v", stdout.String(), err)
	}
	o := outcome{Action: r.Verdict.Action}
	for _, p := range r.Verdict.Policies {
		o.Policies = append(o.Policies, p.Name)
	}
	slices.Sort(o.Policies)
	return o
}

// crlf turns LF line ends into CRLF.
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}
