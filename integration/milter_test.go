package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

const (
	sender    = "alice@test.example"
	recipient = "bob@ext.example"
	passName  = "X-Filter-Loop"
	passValue = "Reflected"
)

// milterMainCF is the Postfix main.cf fragment for the milter.
func milterMainCF(t testing.TB) string {
	return contribFile(t, "contrib/postfix/milter/main.cf", "contrib/postfix/milter-main.cf", "contrib/postfix/main.cf.milter", "contrib/postfix/main.cf")
}

// milterRig is Postfix with maildlp as its milter, relaying to a sink.
type milterRig struct {
	sink *Sink
	pf   *Postfix
	dlp  *Maildlp
}

// newMilterRig starts maildlp (milter on TCP and unix socket) and a
// Postfix configured from the contrib fragment, talking to maildlp over
// transport ("inet" or "unix").
func newMilterRig(t *testing.T, transport string, c DLPConfig) *milterRig {
	t.Helper()
	needMaildlp(t)
	r := &milterRig{sink: NewSink(t)}
	c.Milter = true
	if c.Policies == "" {
		c.Policies = testPolicies
	}
	if c.NotifyRelay == "" {
		c.NotifyRelay = r.sink.Addr()
	}
	r.dlp = NewMaildlp(t, c)
	rw := map[string]string{
		"10030": strconv.Itoa(r.dlp.MilterPort),
		"9030":  strconv.Itoa(r.dlp.Metrics),
	}
	if transport == "unix" {
		for _, k := range []string{"inet:127.0.0.1:10030", "inet:localhost:10030", "inet:[127.0.0.1]:10030"} {
			rw[k] = "unix:" + r.dlp.MilterSock
		}
	}
	r.pf = NewPostfix(t, PostfixConfig{
		Relay:     r.sink.Addr(),
		Fragments: []string{milterMainCF(t)},
		Rewrite:   rw,
	})
	if transport == "unix" && !strings.Contains(readFile(t, filepath.Join(r.pf.ConfDir, "main.cf")), "unix:"+r.dlp.MilterSock) {
		t.Fatalf("contrib milter fragment has no inet:127.0.0.1:10030 milter to point at the unix socket")
	}
	return r
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// send submits one message to the rig's Postfix.
func (r *milterRig) send(m Msg) Result {
	if m.From == "" {
		m.From = sender
	}
	if len(m.To) == 0 {
		m.To = []string{recipient}
	}
	return SendMail(r.pf.Addr(), m.From, m.To, m.Bytes())
}

// stripTrace removes Received: fields and the pass header from a message,
// leaving what the sender wrote.
func stripTrace(data []byte) []byte {
	head, body, ok := bytes.Cut(data, []byte("\r\n\r\n"))
	if !ok {
		return data
	}
	var out []string
	skip := false
	for _, line := range strings.Split(string(head), "\r\n") {
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if !skip {
				out = append(out, line)
			}
			continue
		}
		name, _, _ := strings.Cut(line, ":")
		skip = strings.EqualFold(name, "Received") || strings.EqualFold(name, passName)
		if !skip {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\r\n") + "\r\n\r\n" + string(body))
}

func wantAccepted(t *testing.T, res Result) {
	t.Helper()
	if res.Stage != "dot" || res.Final.Code != 250 {
		t.Fatalf("SMTP transaction = %v, want 250 after end of data", res)
	}
}

// checkCleanDelivery: delivered once, unchanged except trace fields and
// exactly one pass header.
func checkCleanDelivery(t *testing.T, sink *Sink, id string, sent []byte) Delivered {
	t.Helper()
	got := sink.Wait(1, 30*time.Second, withID(id))
	if n := len(sink.Quiet(2*time.Second, withID(id))); n != 1 {
		t.Fatalf("message %s delivered %d times, want exactly once", id, n)
	}
	d := got[0]
	if n := d.HeaderCount(passName); n != 1 {
		t.Errorf("delivered message has %d %s fields, want 1", n, passName)
	}
	if v := d.Header(passName); v != passValue {
		t.Errorf("%s = %q, want %q", passName, v, passValue)
	}
	if !bytes.Equal(stripTrace(d.Data), stripTrace(sent)) {
		t.Errorf("delivered message differs from the sent one beyond trace and pass header:\n--- sent\n%s\n--- delivered\n%s", sent, d.Data)
	}
	return d
}

func cleanMsg(tag string) Msg {
	return Msg{
		ID:      newID(tag),
		From:    sender,
		To:      []string{recipient},
		Subject: "Quarterly figures " + tag,
		Body:    "Hello Bob,\n\nthe order 4711 ships on 2026-12-01, invoice 2026-0042 totals 1,234.56 EUR.\n.\n..dots stay\nRegards\n",
	}
}

// TestMilterClean: a message with no violation is delivered once and only
// once, unchanged except the pass header (issue item 1), over TCP and over
// the unix socket.
func TestMilterClean(t *testing.T) {
	for _, transport := range []string{"inet", "unix"} {
		t.Run(transport, func(t *testing.T) {
			r := newMilterRig(t, transport, DLPConfig{})
			m := cleanMsg("clean-" + transport)
			sent := m.Bytes()
			res := SendMail(r.pf.Addr(), m.From, m.To, sent)
			wantAccepted(t, res)
			checkCleanDelivery(t, r.sink, m.ID, sent)
			// The decision is logged once, as a pass, under Postfix's queue id.
			qid := r.pf.QueueIDOf(m.ID)
			var lines []map[string]any
			testutil.Poll(5*time.Second, func() bool {
				lines = r.dlp.Decisions(qid)
				return len(lines) > 0
			})
			if len(lines) != 1 || lines[0]["action"] != "pass" {
				t.Errorf("decision log lines for queue id %s = %v, want one with action pass", qid, lines)
			}
		})
	}
}

// TestMilterBlock: the client gets the policy's 5xx and text in the SMTP
// session; nothing is delivered (issue item 2).
func TestMilterBlock(t *testing.T) {
	for _, transport := range []string{"inet", "unix"} {
		t.Run(transport, func(t *testing.T) {
			r := newMilterRig(t, transport, DLPConfig{})
			m := cleanMsg("block-" + transport)
			m.Body += "Internal code name " + wordBlock + " attached.\n"
			res := r.send(m)
			if res.Final.Class() != 5 {
				t.Fatalf("SMTP transaction = %v, want a 5xx reply", res)
			}
			if res.Final.Code != 550 || !strings.HasPrefix(res.Final.Lines[0], "5.7.1") {
				t.Errorf("reply = %v, want 550 5.7.1 (the policy's code)", res.Final)
			}
			txt := res.Final.Text()
			if !strings.Contains(txt, "Message refused by policy test-block, incident ") {
				t.Errorf("reply text = %q, want the policy's text with its name and incident id", txt)
			}
			if got := r.sink.Quiet(3*time.Second, nil); len(got) != 0 {
				t.Errorf("sink received %d message(s), want none", len(got))
			}
			if q := r.pf.Queue(); len(q) != 0 {
				t.Errorf("postfix queue = %+v, want empty", q)
			}
			incs := r.dlp.WaitIncidents(1, 10*time.Second, nil)
			if s := fmt.Sprint(incs[0]); !strings.Contains(s, "test-block") {
				t.Errorf("incident %s does not name policy test-block", s)
			}
			// The incident id in the reply is the one in the incident log.
			if id := incidentID(incs[0]); id == "" || !strings.Contains(txt, id) {
				t.Errorf("reply %q does not carry incident id %q", txt, id)
			}
		})
	}
}

// incidentID finds the incident id field of an incident record.
func incidentID(inc map[string]any) string {
	for _, k := range []string{"incident_id", "id", "incident"} {
		if v, ok := inc[k].(string); ok {
			return v
		}
	}
	return ""
}

// TestMilterActions covers redirect, notification, modify, quarantine and
// tempfail on one Postfix + maildlp pair (issue items 3, 4, 5, 6).
func TestMilterActions(t *testing.T) {
	r := newMilterRig(t, "inet", DLPConfig{})

	t.Run("redirect", func(t *testing.T) {
		m := cleanMsg("redirect")
		m.To = []string{"bob@ext.example", "carol@ext.example"}
		m.Body += "See " + wordRedirect + "\n"
		wantAccepted(t, r.send(m))
		got := r.sink.Wait(1, 30*time.Second, withID(m.ID))
		got = r.sink.Quiet(2*time.Second, withID(m.ID))
		if len(got) != 1 {
			t.Fatalf("delivered %d copies, want 1", len(got))
		}
		if fmt.Sprint(got[0].To) != "["+reviewAddr+"]" {
			t.Errorf("delivered to %v, want only [%s]", got[0].To, reviewAddr)
		}
		inc := r.dlp.WaitIncidents(1, 10*time.Second, func(i map[string]any) bool { return strings.Contains(fmt.Sprint(i), "test-redirect") })
		if s := fmt.Sprint(inc[0]); !strings.Contains(s, "bob@ext.example") || !strings.Contains(s, "carol@ext.example") {
			t.Errorf("incident %s does not record the original recipients", s)
		}
	})

	t.Run("modify", func(t *testing.T) {
		m := cleanMsg("modify")
		m.Body += "Contains " + wordModify + "\n"
		wantAccepted(t, r.send(m))
		got := r.sink.Wait(1, 30*time.Second, withID(m.ID))
		d := got[0]
		if s := d.Header("Subject"); s != subjPrefix+m.Subject {
			t.Errorf("Subject = %q, want %q", s, subjPrefix+m.Subject)
		}
		if v := d.Header(cfilterName); v != "Encrypt" {
			t.Errorf("%s = %q, want Encrypt", cfilterName, v)
		}
		if n := d.HeaderCount("Subject"); n != 1 {
			t.Errorf("%d Subject fields, want 1", n)
		}
		if fmt.Sprint(d.To) != "["+recipient+"]" {
			t.Errorf("delivered to %v, want [%s]", d.To, recipient)
		}
	})

	t.Run("notify", func(t *testing.T) {
		m := cleanMsg("notify")
		m.Body += "Contains " + wordNotify + "\n"
		wantAccepted(t, r.send(m))
		r.sink.Wait(1, 30*time.Second, withID(m.ID)) // notify alone lets the message through
		notice := r.sink.Wait(1, 30*time.Second, toAddr(noticeAddr))
		checkNotice(t, notice[0], "test-notify", m.Subject)
	})

	t.Run("quarantine", func(t *testing.T) {
		m := cleanMsg("quarantine")
		m.Body += "Contains " + wordQuarantine + "\n"
		wantAccepted(t, r.send(m))
		q := r.pf.WaitQueue(20*time.Second, "one message on hold", func(q []QueueEntry) bool {
			return len(q) == 1 && q[0].QueueName == "hold"
		})
		if got := r.sink.Quiet(2*time.Second, withID(m.ID)); len(got) != 0 {
			t.Fatalf("held message was delivered %d times before release", len(got))
		}
		// Postfix logs the hold, not the milter's reason text.
		r.pf.WaitLog(q[0].QueueID+`: milter-hold: END-OF-MESSAGE`, 5*time.Second)
		r.pf.Release(q[0].QueueID)
		r.pf.Flush()
		r.sink.Wait(1, 30*time.Second, withID(m.ID))
		if got := r.sink.Quiet(2*time.Second, withID(m.ID)); len(got) != 1 {
			t.Fatalf("released message delivered %d times, want 1", len(got))
		}
	})

	t.Run("quarantine-cli", func(t *testing.T) {
		m := cleanMsg("quarantine-cli")
		m.Body += "Contains " + wordQuarantine + "\n"
		wantAccepted(t, r.send(m))
		q := r.pf.WaitQueue(20*time.Second, "one message on hold", func(q []QueueEntry) bool {
			return len(q) == 1 && q[0].QueueName == "hold"
		})
		id := q[0].QueueID
		// The incident is written when the milter answers; wait for it so
		// that list can show the reason.
		r.dlp.WaitIncidents(1, 10*time.Second, func(i map[string]any) bool { return strings.Contains(fmt.Sprint(i), id) })
		out := runMaildlp(t, "quarantine", "list", "--local", "--json", "--postfix-config", r.pf.ConfDir, "--config", r.dlp.ConfigPath)
		var entry struct {
			QueueID    string   `json:"queue_id"`
			Sender     string   `json:"sender"`
			Recipients []string `json:"recipients"`
			IncidentID string   `json:"incident_id"`
			Policies   []string `json:"policies"`
			Reason     string   `json:"reason"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &entry); err != nil {
			t.Fatalf("quarantine list --json = %q: %v", out, err)
		}
		if entry.QueueID != id || entry.Sender != sender || fmt.Sprint(entry.Recipients) != "["+recipient+"]" {
			t.Errorf("quarantine list = %+v, want queue id %s from %s to %s", entry, id, sender, recipient)
		}
		if entry.IncidentID == "" || !strings.Contains(entry.Reason, "test-quarantine") {
			t.Errorf("quarantine list = %+v, want the incident id and a reason naming test-quarantine", entry)
		}
		if out := runMaildlp(t, "quarantine", "release", "--local", "--queue-id", id, "--postfix-config", r.pf.ConfDir, "--config", r.dlp.ConfigPath); !strings.Contains(out, "released "+id) {
			t.Errorf("quarantine release = %q, want \"released %s\"", out, id)
		}
		r.pf.Flush()
		r.sink.Wait(1, 30*time.Second, withID(m.ID))
		if got := r.sink.Quiet(2*time.Second, withID(m.ID)); len(got) != 1 {
			t.Fatalf("released message delivered %d times, want 1", len(got))
		}
		if q := r.pf.Queue(); len(q) != 0 {
			t.Errorf("queue after release = %+v, want empty", q)
		}
	})

	t.Run("large", func(t *testing.T) {
		// 3 MiB: well past go-milter's 200 KiB spill threshold. A clean one
		// arrives byte-identical; the code word in its last line blocks it.
		var b strings.Builder
		for i := 0; b.Len() < 3<<20; i++ {
			fmt.Fprintf(&b, "Line %06d: order 2026-%04d, 12 units at 34.50 EUR, ship 2026-12-%02d.\n", i, i%10000, 1+i%28)
		}
		m := cleanMsg("large-clean")
		m.Body = b.String()
		sent := m.Bytes()
		wantAccepted(t, SendMail(r.pf.Addr(), m.From, m.To, sent))
		checkCleanDelivery(t, r.sink, m.ID, sent)

		m2 := cleanMsg("large-block")
		m2.Body = b.String() + "last line " + wordBlock + "\n"
		if res := r.send(m2); res.Final.Code != 550 {
			t.Errorf("3 MiB message with the code word at the end: %v, want 550", res)
		}
		if got := r.sink.Quiet(2*time.Second, withID(m2.ID)); len(got) != 0 {
			t.Errorf("blocked large message delivered")
		}
	})

	t.Run("tempfail", func(t *testing.T) {
		m := cleanMsg("tempfail")
		m.Body += "Contains " + wordTempfail + "\n"
		res := r.send(m)
		if res.Final.Code != 451 || !strings.Contains(res.Final.Text(), "Try again later (test-tempfail)") {
			t.Errorf("reply = %v, want 451 with the policy's text", res)
		}
		if got := r.sink.Quiet(2*time.Second, withID(m.ID)); len(got) != 0 {
			t.Errorf("tempfailed message delivered %d times", len(got))
		}
	})
}

func toAddr(addr string) func(Delivered) bool {
	return func(d Delivered) bool {
		for _, to := range d.To {
			if strings.EqualFold(to, addr) {
				return true
			}
		}
		return false
	}
}

// checkNotice: the notice names the policy and carries the incident id
// and subject.
func checkNotice(t *testing.T, d Delivered, policy, subject string) {
	t.Helper()
	text := string(d.Data)
	if !strings.Contains(text, policy) {
		t.Errorf("notice does not name policy %s:\n%s", policy, text)
	}
	if !strings.Contains(text, subject) {
		t.Errorf("notice does not name the subject %q:\n%s", subject, text)
	}
}
