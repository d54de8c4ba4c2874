package integration

import (
	"fmt"
	"github.com/maildlp/maildlp/internal/testutil"
	"regexp"
	"slices"
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
			// Sendmail's macros reached the incident: the queue id (i, at
			// MAIL), the client's address and the HELO name.
			inc := incs[0]
			if qid, _ := inc["queue_id"].(string); !regexp.MustCompile(`^[0-9A-Za-z]{14}$`).MatchString(qid) {
				t.Errorf("incident queue_id = %q, want Sendmail's 14-character queue id", qid)
			}
			if inc["client_addr"] != "127.0.0.1" || inc["helo"] == nil || inc["helo"] == "" {
				t.Errorf("incident client_addr = %v, helo = %v, want 127.0.0.1 and the client's HELO", inc["client_addr"], inc["helo"])
			}
			// Refused at the end of data: Sendmail queued nothing.
			if q := r.sm.Queue(false); len(q) != 0 {
				t.Errorf("sendmail queue = %+v, want empty", q)
			}
			if n := countID(r.sink, m.ID); n != 0 {
				t.Errorf("sink received the blocked message %d times", n)
			}
		})
	}
}

// TestSendmailActions covers redirect, modify (also with Subject as the
// first header field), quarantine with its release, and tempfail on one
// Sendmail + maildlp pair.
func TestSendmailActions(t *testing.T) {
	r := newSendmailRig(t, "inet", DLPConfig{})

	t.Run("redirect", func(t *testing.T) {
		m := cleanMsg("sm-redirect")
		m.To = []string{"bob@ext.example", "carol@ext.example"}
		m.Body += "See " + wordRedirect + "\n"
		wantAccepted(t, r.send(m))
		r.sink.Wait(1, 30*time.Second, withID(m.ID))
		r.sm.Settle()
		got := r.sink.Messages()
		got = slices.DeleteFunc(got, func(d Delivered) bool { return !withID(m.ID)(d) })
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

	checkModified := func(t *testing.T, d Delivered, subject string) {
		t.Helper()
		if s := d.Header("Subject"); s != subjPrefix+subject {
			t.Errorf("Subject = %q, want %q", s, subjPrefix+subject)
		}
		if n := d.HeaderCount("Subject"); n != 1 {
			t.Errorf("%d Subject fields, want 1", n)
		}
		if v := d.Header(cfilterName); v != "Encrypt" {
			t.Errorf("%s = %q, want Encrypt", cfilterName, v)
		}
		if n := d.HeaderCount(passName); n != 1 {
			t.Errorf("%d %s fields, want 1", n, passName)
		}
		if fmt.Sprint(d.To) != "["+recipient+"]" {
			t.Errorf("delivered to %v, want [%s]", d.To, recipient)
		}
	}

	t.Run("modify", func(t *testing.T) {
		m := cleanMsg("sm-modify")
		m.Body += "Contains " + wordModify + "\n"
		wantAccepted(t, r.send(m))
		checkModified(t, r.sink.Wait(1, 30*time.Second, withID(m.ID))[0], m.Subject)
	})

	t.Run("modify-subject-first", func(t *testing.T) {
		// Subject is the first field of the message as sent. Sendmail puts
		// its Received: above it; the change must still hit this Subject,
		// in place, and leave no second one.
		id := newID("sm-modify-first")
		subject := "Figures, Subject first"
		raw := "Subject: " + subject + "\r\nFrom: <" + sender + ">\r\nTo: <" + recipient + ">\r\n" +
			"Message-ID: <" + id + ">\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\n" +
			"Contains " + wordModify + "\r\n"
		wantAccepted(t, SendMail(r.sm.Addr(), sender, []string{recipient}, []byte(raw)))
		d := r.sink.Wait(1, 30*time.Second, withID(id))[0]
		checkModified(t, d, subject)
		head, _, _ := strings.Cut(string(d.Data), "\r\n\r\n")
		if !regexp.MustCompile(`(?m)^Received: [^\r]*(\r\n[ \t][^\r]*)*\r\nSubject: `).MatchString(head) {
			t.Errorf("the tagged Subject is not where the original was (after Sendmail's Received:):\n%s", head)
		}
	})

	t.Run("quarantine", func(t *testing.T) {
		m := cleanMsg("sm-quarantine")
		m.Body += "Contains " + wordQuarantine + "\n"
		res := r.send(m)
		wantAccepted(t, res)
		qid := sendmailQueueID(t, res)
		q := r.sm.WaitQueue(true, 20*time.Second, "the message in the quarantine queue", func(q []SendmailEntry) bool {
			return len(q) == 1 && q[0].ID == qid
		})
		inc := r.dlp.WaitIncidents(1, 10*time.Second, func(i map[string]any) bool { return strings.Contains(fmt.Sprint(i), "test-quarantine") })
		id := incidentID(inc[0])
		if !strings.Contains(q[0].Quarantine, "test-quarantine") || id == "" || !strings.Contains(q[0].Quarantine, id) {
			t.Errorf("mailq -qQ reason = %q, want one naming test-quarantine and incident %q", q[0].Quarantine, id)
		}
		if q[0].Sender != sender || fmt.Sprint(q[0].Recipients) != "["+recipient+"]" {
			t.Errorf("quarantined %s -> %v, want %s -> [%s]", q[0].Sender, q[0].Recipients, sender, recipient)
		}
		// A queue run leaves it alone.
		r.sm.RunQueue()
		r.sm.Settle()
		if n := countID(r.sink, m.ID); n != 0 {
			t.Fatalf("quarantined message delivered %d times before release", n)
		}
		// Release: an empty -Q lifts the quarantine of the selected job.
		if out, err := r.sm.Run("-qQ", "-qI"+qid, "-Q"); err != nil {
			t.Fatalf("sendmail -qQ -qI%s -Q: %v\n%s", qid, err, out)
		}
		if q := r.sm.Queue(true); len(q) != 0 {
			t.Errorf("quarantine queue after release = %+v, want empty", q)
		}
		r.sink.Wait(1, 30*time.Second, withID(m.ID))
		r.sm.Settle()
		if n := countID(r.sink, m.ID); n != 1 {
			t.Fatalf("released message delivered %d times, want 1", n)
		}
	})

	t.Run("tempfail", func(t *testing.T) {
		m := cleanMsg("sm-tempfail")
		m.Body += "Contains " + wordTempfail + "\n"
		res := r.send(m)
		if res.Final.Code != 451 || !strings.Contains(res.Final.Text(), "Try again later (test-tempfail)") {
			t.Errorf("reply = %v, want 451 with the policy's text", res)
		}
		if q := r.sm.Queue(false); len(q) != 0 {
			t.Errorf("sendmail queue = %+v, want empty", q)
		}
		if n := countID(r.sink, m.ID); n != 0 {
			t.Errorf("tempfailed message delivered %d times", n)
		}
	})
}

// TestSendmailTrialMode: in trial mode Sendmail delivers the violating
// message unchanged and the incident records what would have happened.
func TestSendmailTrialMode(t *testing.T) {
	r := newSendmailRig(t, "inet", DLPConfig{TrialMode: true})
	m := cleanMsg("sm-trial")
	m.Body += "Contains " + wordBlock + "\n"
	wantAccepted(t, r.send(m))
	r.sink.Wait(1, 30*time.Second, withID(m.ID))
	r.sm.Settle()
	got := slices.DeleteFunc(r.sink.Messages(), func(d Delivered) bool { return !withID(m.ID)(d) })
	if len(got) != 1 || fmt.Sprint(got[0].To) != "["+recipient+"]" {
		t.Fatalf("delivered %d copies (%v), want one to %s", len(got), envelopes(got), recipient)
	}
	inc := r.dlp.WaitIncidents(1, 10*time.Second, nil)
	if s := fmt.Sprint(inc[0]); !strings.Contains(s, "test-block") || !strings.Contains(s, "block") {
		t.Errorf("trial incident %s does not record policy test-block and the block it would have applied", s)
	}
}

// TestSendmailMilterDown: with maildlp stopped, the contrib line's F=T
// makes Sendmail answer 4xx and keep nothing; after maildlp is back the
// client's retry is delivered exactly once.
func TestSendmailMilterDown(t *testing.T) {
	r := newSendmailRig(t, "inet", DLPConfig{})
	r.dlp.Stop()
	m := cleanMsg("sm-milter-down")
	sent := m.Bytes()
	res := SendMail(r.sm.Addr(), m.From, m.To, sent)
	if res.Final.Class() != 4 {
		t.Fatalf("with maildlp stopped: %v, want a 4xx reply", res)
	}
	if q := r.sm.Queue(false); len(q) != 0 {
		t.Errorf("sendmail queue while maildlp is down = %+v, want empty", q)
	}
	r.dlp.Start()
	wantAccepted(t, SendMail(r.sm.Addr(), m.From, m.To, sent))
	checkCleanDelivery(t, r.sink, m.ID, sent)
}

// TestSendmailForgedPassHeader: pass header fields the sender wrote are
// removed by Sendmail on maildlp's request and only ours is delivered,
// also when a forged one is the first field, on a clean message and on a
// modified one.
func TestSendmailForgedPassHeader(t *testing.T) {
	r := newSendmailRig(t, "inet", DLPConfig{})
	for _, c := range []struct{ name, word string }{{"clean", ""}, {"modify", wordModify}} {
		t.Run(c.name, func(t *testing.T) {
			m := cleanMsg("sm-forged-" + c.name)
			for range 3 {
				m.Headers = append(m.Headers, passName+": "+passValue)
			}
			if c.word != "" {
				m.Body += "Contains " + c.word + "\n"
			}
			raw := passName + ": forged-first\r\n" + string(m.Bytes())
			wantAccepted(t, SendMail(r.sm.Addr(), sender, []string{recipient}, []byte(raw)))
			d := r.sink.Wait(1, 30*time.Second, withID(m.ID))[0]
			if n := strings.Count(strings.ToLower(string(d.Data)), strings.ToLower(passName)+":"); n != 1 || d.Header(passName) != passValue {
				t.Errorf("delivered with %d %s fields (first %q), want only ours:\n%s", n, passName, d.Header(passName), d.Data)
			}
			// Sendmail reuses the first deleted field of the same name for
			// an added one (Postfix appends it): ours is where the forged
			// first field was, right after Sendmail's Received:.
			head, _, _ := strings.Cut(string(d.Data), "\r\n\r\n")
			if !regexp.MustCompile(`^Received: [^\r]*(\r\n[ \t][^\r]*)*\r\n` + passName + `: `).MatchString(head) {
				t.Errorf("pass header not in the place of the first deleted one:\n%s", head)
			}
			if c.word != "" && d.Header("Subject") != subjPrefix+m.Subject {
				t.Errorf("Subject = %q, want %q", d.Header("Subject"), subjPrefix+m.Subject)
			}
		})
	}
}

// TestSendmailMilterRestartUnderLoad: maildlp restarted (SIGTERM) and
// crashed (SIGKILL) in the middle of a run of messages through Sendmail:
// each message is accepted and delivered exactly once, or tempfailed and
// not delivered; the client's retries are all delivered once.
func TestSendmailMilterRestartUnderLoad(t *testing.T) {
	r := newSendmailRig(t, "inet", DLPConfig{})
	t.Run("restart", func(t *testing.T) {
		loadThrough(t, r.sm.Addr(), r.sink, "sm-restart", func() { r.dlp.Restart() })
	})
	t.Run("crash", func(t *testing.T) {
		loadThrough(t, r.sm.Addr(), r.sink, "sm-crash", func() { r.dlp.Kill(); r.dlp.Start() })
	})
}
