package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// issue9Policies refuse a keyword with a reply text that is multi-line,
// has a '%' and non-ASCII characters, and does not name the incident.
const issue9Policies = `
[[detector]]
name  = "codeword"
type  = "keywords"
words = ["nightingale"]

[[policy]]
name = "Codeword"
rule = { detector = "codeword" }
block = { code = 554, enhanced = "5.7.0", text = "Données refusées: 100% sûr\nsecond line" }
`

// lastIncident is the incident id of the newest decision of frontend.
func lastIncident(t *testing.T, dlp *Maildlp, frontend string, before int) string {
	t.Helper()
	var ds []map[string]any
	if !testutil.Poll(15*time.Second, func() bool {
		ds = ds[:0]
		for _, l := range dlp.LogLines(`"msg":"decision"`) {
			if l["frontend"] == frontend {
				ds = append(ds, l)
			}
		}
		return len(ds) > before
	}) {
		t.Fatalf("%s logged no decision", frontend)
	}
	return fmt.Sprint(ds[len(ds)-1]["incident_id"])
}

func countDecisions(dlp *Maildlp, frontend string) int {
	n := 0
	for _, l := range dlp.LogLines(`"msg":"decision"`) {
		if l["frontend"] == frontend {
			n++
		}
	}
	return n
}

// TestIssue9ReplyBytesThroughPostfix: a policy reply with several lines,
// a '%' and non-ASCII text reaches the client byte for byte the same from
// the milter and from the hop, each behind a real Postfix: the renderer's
// bytes with each front end's incident id appended. Non-ASCII is replaced
// unless the client sent SMTPUTF8 (RFC 6531 section 3.7.4.1); then Postfix
// (3.7, smtputf8_enable = yes) passes the milter's UTF-8 text on as it is.
func TestIssue9ReplyBytesThroughPostfix(t *testing.T) {
	needMaildlp(t)
	rig := newFrontRig(t, DLPConfig{Policies: issue9Policies}, []string{"smtputf8_enable = yes"})
	m := cleanMsg("issue9")
	m.Body += "the nightingale sings\n"
	for _, utf8 := range []bool{false, true} {
		for _, fe := range []string{"milter", "reinject"} {
			t.Run(fmt.Sprintf("%s smtputf8=%v", fe, utf8), func(t *testing.T) {
				pf := map[string]*Postfix{"milter": rig.pfMilter, "reinject": rig.pfHop}[fe]
				before := countDecisions(rig.dlp, fe)
				res := sendRaw(t, pf.Addr(), utf8, m.Bytes())
				if fe == "reinject" && utf8 && res.Code == 504 {
					t.Skipf("the hop does not offer SMTPUTF8, Postfix's proxy passes the refusal on: %q", wireText(res))
				}
				id := lastIncident(t, rig.dlp, fe, before)
				want := "554-5.7.0 Donn?es refus?es: 100% s?r\r\n554 5.7.0 second line (incident " + id + ")"
				if utf8 {
					want = "554-5.7.0 Données refusées: 100% sûr\r\n554 5.7.0 second line (incident " + id + ")"
				}
				if got := wireText(res); got != want {
					t.Errorf("reply\n got %q\nwant %q", got, want)
				}
			})
		}
	}
}

// sendRaw sends msg in one transaction, with SMTPUTF8 on MAIL FROM when
// utf8, and returns the reply that ended it.
func sendRaw(t *testing.T, addr string, utf8 bool, msg []byte) Reply {
	t.Helper()
	c, greet := Dial(addr)
	if c == nil || greet.Code != 220 {
		t.Fatalf("greeting %v", greet)
	}
	defer c.Close()
	if r := c.Ehlo("client.test.example"); r.Code != 250 {
		t.Fatalf("EHLO: %v", r)
	}
	mail := fmt.Sprintf("MAIL FROM:<%s>", sender)
	if utf8 {
		mail += " SMTPUTF8"
	}
	if r := c.Cmd("%s", mail); r.Code != 250 {
		return r
	}
	if r := c.Cmd("RCPT TO:<%s>", recipient); r.Code != 250 {
		return r
	}
	if r := c.Cmd("DATA"); r.Code != 354 {
		return r
	}
	return c.Raw(dotStuff(msg) + ".\r\n")
}
