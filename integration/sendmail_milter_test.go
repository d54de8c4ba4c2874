package integration

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sendmailRig is a real Sendmail with maildlp as its milter (the contrib
// INPUT_MAIL_FILTER line), relaying to a sink.
type sendmailRig struct {
	sink *Sink
	sm   *Sendmail
	dlp  *Maildlp
}

// newSendmailRig starts maildlp and a Sendmail that reaches it over
// transport ("inet" or "unix").
func newSendmailRig(t *testing.T, transport string, c DLPConfig) *sendmailRig {
	t.Helper()
	needMaildlp(t)
	needSendmail(t)
	r := &sendmailRig{sink: NewSink(t)}
	c.Milter = true
	if c.Policies == "" {
		c.Policies = testPolicies
	}
	if c.NotifyRelay == "" {
		c.NotifyRelay = r.sink.Addr()
	}
	r.dlp = NewMaildlp(t, c)
	sock := "inet:" + strconv.Itoa(r.dlp.MilterPort) + "@127.0.0.1"
	if transport == "unix" {
		sock = "unix:" + r.dlp.MilterSock
	}
	r.sm = NewSendmail(t, SendmailConfig{Relay: r.sink.Addr(), Milter: sock})
	return r
}

func (r *sendmailRig) send(m Msg) Result {
	if m.From == "" {
		m.From = sender
	}
	if len(m.To) == 0 {
		m.To = []string{recipient}
	}
	return SendMail(r.sm.Addr(), m.From, m.To, m.Bytes())
}

var sendmailQueueIDRe = regexp.MustCompile(`\b([0-9A-Za-z]{14}) Message accepted for delivery`)

// sendmailQueueID is the queue id in Sendmail's 250 reply to the data.
func sendmailQueueID(t *testing.T, res Result) string {
	t.Helper()
	m := sendmailQueueIDRe.FindStringSubmatch(res.Final.Text())
	if m == nil {
		t.Fatalf("reply %v carries no Sendmail queue id", res)
	}
	return m[1]
}

// TestSendmailClean: on a real Sendmail, a clean message is delivered once,
// unchanged but for trace fields and exactly one pass header, and the
// decision is logged once under Sendmail's queue id (macro i), over TCP
// and over the unix socket.
func TestSendmailClean(t *testing.T) {
	for _, transport := range []string{"inet", "unix"} {
		t.Run(transport, func(t *testing.T) {
			r := newSendmailRig(t, transport, DLPConfig{})
			m := cleanMsg("sm-clean-" + transport)
			sent := m.Bytes()
			res := SendMail(r.sm.Addr(), m.From, m.To, sent)
			wantAccepted(t, res)
			qid := sendmailQueueID(t, res)
			checkCleanDelivery(t, r.sink, m.ID, sent)
			var lines []map[string]any
			waitFor(5*time.Second, 100*time.Millisecond, func() bool {
				lines = r.dlp.Decisions(qid)
				return len(lines) > 0
			})
			if len(lines) != 1 || lines[0]["action"] != "pass" {
				t.Errorf("decision log lines for queue id %s = %v, want one with action pass", qid, lines)
			}
		})
	}
}

// TestSendmailBlock: the client gets the policy's 5xx, enhanced code and
// text with the incident id in the SMTP session; nothing is delivered or
// left in Sendmail's queue.
func TestSendmailBlock(t *testing.T) {
	for _, transport := range []string{"inet", "unix"} {
		t.Run(transport, func(t *testing.T) {
			r := newSendmailRig(t, transport, DLPConfig{})
			m := cleanMsg("sm-block-" + transport)
			m.Body += "Internal code name " + wordBlock + " attached.\n"
			res := r.send(m)
			if res.Final.Code != 550 || !strings.HasPrefix(res.Final.Lines[0], "5.7.1") {
				t.Fatalf("reply = %v, want 550 5.7.1 (the policy's code)", res)
			}
			txt := res.Final.Text()
			if !strings.Contains(txt, "Message refused by policy test-block, incident ") {
				t.Errorf("reply text = %q, want the policy's text with its name and incident id", txt)
			}
			incs := r.dlp.WaitIncidents(1, 10*time.Second, nil)
			if id := incidentID(incs[0]); id == "" || !strings.Contains(txt, id) {
				t.Errorf("reply %q does not carry incident id %q", txt, id)
			}
			if got := r.sink.Quiet(3*time.Second, nil); len(got) != 0 {
				t.Errorf("sink received %d message(s), want none", len(got))
			}
			if q := r.sm.Queue(false); len(q) != 0 {
				t.Errorf("sendmail queue = %+v, want empty", q)
			}
		})
	}
}

// debugf keeps fmt imported for ad hoc diagnostics.
var _ = fmt.Sprint
