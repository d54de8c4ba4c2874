package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// hopVariant is one way of routing mail through the reinjection hop.
type hopVariant struct {
	name        string
	dirKeys     []string // contrib/postfix/<dir> whose name contains one of these
	beforeQueue bool     // the client sees the hop's verdict in its own session
	reinject    string   // extra [reinject] settings the variant needs
}

var reflectVariants = []hopVariant{
	{name: "after-queue", dirKeys: []string{"after-queue", "content-filter", "content_filter"}},
	{name: "before-queue", dirKeys: []string{"before-queue", "proxy"}, beforeQueue: true},
	{name: "client-ip", dirKeys: []string{"client-ip", "client"}, reinject: `source_addr = "127.0.0.2"`},
	{name: "helo", dirKeys: []string{"helo"}, reinject: `helo_name = "maildlp-reflect.test.example"`},
	{name: "header", dirKeys: []string{"header"}},
}

// variantFiles returns the contrib files (relative to the repository) of
// a routing variant.
func variantFiles(t testing.TB, v hopVariant) []string {
	t.Helper()
	root := filepath.Join(repoRoot, "contrib", "postfix")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatalf("contrib/postfix: %v", err)
	}
	for _, key := range v.dirKeys {
		for _, e := range entries {
			if !e.IsDir() || !strings.Contains(e.Name(), key) {
				continue
			}
			files, _ := os.ReadDir(filepath.Join(root, e.Name()))
			var out []string
			for _, f := range files {
				if f.IsDir() || strings.HasSuffix(f.Name(), ".md") || strings.HasSuffix(f.Name(), ".toml") {
					continue
				}
				out = append(out, filepath.Join("contrib", "postfix", e.Name(), f.Name()))
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	t.Fatalf("no contrib/postfix directory for the %s variant (looked for %v)", v.name, v.dirKeys)
	return nil
}

// hopRig is Postfix routing mail through maildlp's reinjection hop.
type hopRig struct {
	v           hopVariant
	sink        *Sink
	pf          *Postfix
	dlp         *Maildlp
	reflectPort int
}

func newHopRig(t *testing.T, v hopVariant, c DLPConfig) *hopRig {
	t.Helper()
	needMaildlp(t)
	r := &hopRig{v: v, sink: NewSink(t), reflectPort: freePort(t)}
	if c.Policies == "" {
		c.Policies = testPolicies
	}
	if c.NotifyRelay == "" {
		c.NotifyRelay = r.sink.Addr()
	}
	if c.Reinject == "" {
		c.Reinject = fmt.Sprintf("mode = \"reflect\"\nreflect_to = \"127.0.0.1:%d\"\n%s", r.reflectPort, v.reinject)
	}
	r.dlp = NewMaildlp(t, c)
	r.pf = NewPostfix(t, PostfixConfig{
		Relay:     r.sink.Addr(),
		Fragments: variantFiles(t, v),
		Rewrite: map[string]string{
			"10025": strconv.Itoa(r.dlp.HopPort),
			"10026": strconv.Itoa(r.reflectPort),
			"10030": strconv.Itoa(r.dlp.MilterPort),
			"9030":  strconv.Itoa(r.dlp.Metrics),
		},
	})
	return r
}

func (r *hopRig) send(m Msg) Result {
	if m.From == "" {
		m.From = sender
	}
	if len(m.To) == 0 {
		m.To = []string{recipient}
	}
	return SendMail(r.pf.Addr(), m.From, m.To, m.Bytes())
}

// MessagesTotal sums maildlp_messages_total over its labels: the number of
// messages the engine decided.
func (m *Maildlp) MessagesTotal() float64 { return m.Metric("maildlp_messages_total") }

// Metric sums the samples of /metrics whose line starts with series (a
// name, or a name and its labels).
func (m *Maildlp) Metric(series string) float64 {
	m.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", m.Metrics))
	if err != nil {
		m.t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, series) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// TestReflect runs the reinjection tests for each reflecting variant.
func TestReflect(t *testing.T) {
	for _, v := range reflectVariants {
		t.Run(v.name, func(t *testing.T) {
			r := newHopRig(t, v, DLPConfig{})

			t.Run("clean", func(t *testing.T) {
				before := r.dlp.MessagesTotal()
				m := cleanMsg("hop-clean-" + v.name)
				sent := m.Bytes()
				wantAccepted(t, SendMail(r.pf.Addr(), m.From, m.To, sent))
				checkCleanDelivery(t, r.sink, m.ID, sent)
				if n := r.dlp.MessagesTotal() - before; n != 1 {
					t.Errorf("maildlp decided %v messages for one clean message, want 1 (no loop, no double scan)", n)
				}
			})

			t.Run("block", func(t *testing.T) {
				m := cleanMsg("hop-block-" + v.name)
				m.Body += "Internal code name " + wordBlock + "\n"
				res := r.send(m)
				if v.beforeQueue {
					if res.Final.Code != 550 || !strings.Contains(res.Final.Text(), "Message refused by policy test-block") {
						t.Fatalf("before-queue block: %v, want 550 with the policy's text in the session", res)
					}
				} else {
					wantAccepted(t, res)
					bounce := r.sink.Wait(1, 30*time.Second, toAddr(sender))
					// Postfix folds long lines of the bounce text.
					if body := strings.Join(strings.Fields(string(bounce[0].Data)), " "); !strings.Contains(body, "Message refused by policy test-block") {
						t.Errorf("bounce to the sender lacks the policy's text:\n%s", body)
					}
				}
				if got := r.sink.Quiet(2*time.Second, toAddr(recipient)); len(withIDs(got, m.ID)) != 0 {
					t.Errorf("blocked message delivered to the recipient")
				}
			})

			t.Run("redirect", func(t *testing.T) {
				m := cleanMsg("hop-redirect-" + v.name)
				m.Body += "See " + wordRedirect + "\n"
				wantAccepted(t, r.send(m))
				got := r.sink.Wait(1, 30*time.Second, withID(m.ID))
				got = r.sink.Quiet(2*time.Second, withID(m.ID))
				if len(got) != 1 || fmt.Sprint(got[0].To) != "["+reviewAddr+"]" {
					t.Errorf("redirected message delivered as %v, want once to %s", envelopes(got), reviewAddr)
				}
			})

			t.Run("modify", func(t *testing.T) {
				m := cleanMsg("hop-modify-" + v.name)
				m.Body += "Contains " + wordModify + "\n"
				wantAccepted(t, r.send(m))
				d := r.sink.Wait(1, 30*time.Second, withID(m.ID))[0]
				if s := d.Header("Subject"); s != subjPrefix+m.Subject {
					t.Errorf("Subject = %q, want %q", s, subjPrefix+m.Subject)
				}
				if h := d.Header(cfilterName); h != "Encrypt" {
					t.Errorf("%s = %q, want Encrypt", cfilterName, h)
				}
			})

			t.Run("failover", func(t *testing.T) {
				r.dlp.Stop()
				m := cleanMsg("hop-failover-" + v.name)
				sent := m.Bytes()
				res := SendMail(r.pf.Addr(), m.From, m.To, sent)
				if v.beforeQueue {
					if res.Final.Class() != 4 {
						t.Errorf("before-queue with the hop down: %v, want 4xx", res)
					}
				} else {
					wantAccepted(t, res)
					// Queued and retried: with 1s queue timers it moves between
					// the deferred and active queues; what matters is that the
					// delivery attempt to the hop failed and it is still queued.
					r.pf.WaitQueue(20*time.Second, "message queued after a failed attempt", func(q []QueueEntry) bool {
						return len(q) == 1 && q[0].QueueName != "hold" && len(q[0].Recipients) == 1 && q[0].Recipients[0].DelayReason != ""
					})
				}
				if got := r.sink.Quiet(2*time.Second, withID(m.ID)); len(got) != 0 {
					t.Fatalf("delivered while the hop was down")
				}
				r.dlp.Start()
				if v.beforeQueue {
					wantAccepted(t, SendMail(r.pf.Addr(), m.From, m.To, sent))
				} else {
					r.pf.Flush()
				}
				checkCleanDelivery(t, r.sink, m.ID, sent)
			})

			if v.name == "after-queue" || v.name == "before-queue" {
				t.Run("restart-under-load", func(t *testing.T) {
					loadThrough(t, r.pf.Addr(), r.sink, "hop-"+v.name, func() { r.dlp.Restart() })
				})
			}
		})
	}
}

func withIDs(ds []Delivered, id string) []Delivered {
	var out []Delivered
	for _, d := range ds {
		if withID(id)(d) {
			out = append(out, d)
		}
	}
	return out
}

func envelopes(ds []Delivered) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%s->%v", d.From, d.To))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// forwardRig: client -> maildlp hop (forward mode) -> sinks, no Postfix in
// between, so the hop's own SMTP behaviour is what the client sees.
type forwardRig struct {
	hops []*Sink
	dlp  *Maildlp
}

func newForwardRig(t *testing.T, hops []*Sink, extra string) *forwardRig {
	t.Helper()
	var addrs []string
	for _, h := range hops {
		addrs = append(addrs, fmt.Sprintf("%q", h.Addr()))
	}
	c := DLPConfig{
		Policies:    testPolicies,
		NotifyRelay: hops[0].Addr(),
		Reinject:    fmt.Sprintf("mode = \"forward\"\nnext_hops = [%s]\n%s", strings.Join(addrs, ", "), extra),
	}
	return &forwardRig{hops: hops, dlp: NewMaildlp(t, c)}
}

// TestForward: forwarding mode, client talking to the hop directly.
func TestForward(t *testing.T) {
	needMaildlp(t)
	a, b := NewSink(t), NewSink(t)
	r := newForwardRig(t, []*Sink{a, b}, "")

	t.Run("clean", func(t *testing.T) {
		m := cleanMsg("fwd-clean")
		sent := m.Bytes()
		wantAccepted(t, SendMail(r.dlp.HopAddr(), m.From, m.To, sent))
		d := a.Wait(1, 10*time.Second, withID(m.ID))[0]
		if d.Header(passName) != passValue {
			t.Errorf("%s = %q, want %q", passName, d.Header(passName), passValue)
		}
		if !strings.Contains(string(d.Data), "\r\n..dots stay\r\n") && !strings.Contains(string(d.Data), "\r\n.dots stay\r\n") {
			t.Errorf("body lines lost: %q", d.Data)
		}
		if got := b.Quiet(time.Second, withID(m.ID)); len(got) != 0 {
			t.Errorf("second hop got the message too")
		}
	})

	t.Run("large", func(t *testing.T) {
		var b strings.Builder
		for i := 0; b.Len() < 3<<20; i++ {
			fmt.Fprintf(&b, "Line %06d: order 2026-%04d, 12 units at 34.50 EUR.\n", i, i%10000)
		}
		m := cleanMsg("fwd-large")
		m.Body = b.String()
		sent := m.Bytes()
		wantAccepted(t, SendMail(r.dlp.HopAddr(), m.From, m.To, sent))
		d := a.Wait(1, 20*time.Second, withID(m.ID))[0]
		if !bytes.Equal(stripTrace(d.Data), stripTrace(sent)) {
			t.Errorf("3 MiB message changed on the way (%d bytes sent, %d delivered)", len(sent), len(d.Data))
		}
		m2 := cleanMsg("fwd-large-block")
		m2.Body = b.String() + wordBlock + "\n"
		if res := SendMail(r.dlp.HopAddr(), m2.From, m2.To, m2.Bytes()); res.Final.Code != 550 {
			t.Errorf("3 MiB message with the code word at the end: %v, want 550", res)
		}
	})

	t.Run("block", func(t *testing.T) {
		m := cleanMsg("fwd-block")
		m.Body += wordBlock + "\n"
		res := SendMail(r.dlp.HopAddr(), m.From, m.To, m.Bytes())
		if res.Final.Code != 550 || !strings.Contains(res.Final.Text(), "Message refused by policy test-block") {
			t.Errorf("block: %v, want 550 with the policy's text", res)
		}
		if got := a.Quiet(time.Second, withID(m.ID)); len(got) != 0 {
			t.Errorf("blocked message delivered")
		}
	})

	t.Run("downstream-refuses-recipient", func(t *testing.T) {
		a.Refuse("nobody@ext.example", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "sink says: no such mailbox here"})
		m := cleanMsg("fwd-refuse")
		m.To = []string{"nobody@ext.example", recipient}
		res := SendMail(r.dlp.HopAddr(), m.From, m.To, m.Bytes())
		if len(res.Rcpt) != 2 {
			t.Fatalf("transaction %v, want two RCPT replies", res)
		}
		if got := res.Rcpt[0]; got.Code != 550 || got.Text() != "5.1.1 sink says: no such mailbox here" {
			t.Errorf("refused RCPT reply = %v, want the downstream's 550 5.1.1 sink says: no such mailbox here", got)
		}
		if res.Rcpt[1].Code != 250 {
			t.Errorf("second RCPT = %v, want 250", res.Rcpt[1])
		}
		wantAccepted(t, res)
		d := a.Wait(1, 10*time.Second, withID(m.ID))[0]
		if fmt.Sprint(d.To) != "["+recipient+"]" {
			t.Errorf("delivered to %v, want [%s]", d.To, recipient)
		}
	})

	t.Run("first-hop-down", func(t *testing.T) {
		a.Stop()
		defer a.Start()
		m := cleanMsg("fwd-second")
		wantAccepted(t, SendMail(r.dlp.HopAddr(), m.From, m.To, m.Bytes()))
		b.Wait(1, 10*time.Second, withID(m.ID))
	})

	t.Run("all-hops-down", func(t *testing.T) {
		a.Stop()
		b.Stop()
		m := cleanMsg("fwd-none")
		sent := m.Bytes()
		res := SendMail(r.dlp.HopAddr(), m.From, m.To, sent)
		if res.Final.Class() != 4 {
			t.Errorf("all next hops down: %v, want 4xx", res)
		}
		a.Start()
		b.Start()
		wantAccepted(t, SendMail(r.dlp.HopAddr(), m.From, m.To, sent))
		got := append(a.Quiet(time.Second, withID(m.ID)), b.Quiet(time.Second, withID(m.ID))...)
		if len(got) != 1 {
			t.Errorf("delivered %d times after the retry, want 1", len(got))
		}
	})
}

// smugglingSequences end the DATA early for a lenient receiver. None of
// them may become a message boundary downstream.
var smugglingSequences = []string{"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r\n.\r", "\r.\r\n", "\n.\r", "\r.\n"}

// TestSmuggling sends each sequence through the hop with a second message
// hidden behind it, with bare_newline = "reject" (the default: 5xx) and
// "normalise" (one message whose body holds the text); the sink must never
// see the hidden message.
func TestSmuggling(t *testing.T) {
	needMaildlp(t)
	for _, mode := range []string{"reject", "normalise"} {
		t.Run(mode, func(t *testing.T) {
			sink := NewSink(t)
			r := newForwardRig(t, []*Sink{sink}, fmt.Sprintf("bare_newline = %q", mode))
			accepted := 0
			for i, seq := range smugglingSequences {
				t.Run(strconv.Quote(seq), func(t *testing.T) {
					c, greet := Dial(r.dlp.HopAddr())
					if c == nil || greet.Code != 220 {
						t.Fatalf("connect: %v", greet)
					}
					defer c.Close()
					c.Ehlo("client.test.example")
					if rep := c.Cmd("MAIL FROM:<%s>", sender); rep.Code != 250 {
						t.Fatalf("MAIL: %v", rep)
					}
					if rep := c.Cmd("RCPT TO:<%s>", recipient); rep.Code != 250 {
						t.Fatalf("RCPT: %v", rep)
					}
					if rep := c.Cmd("DATA"); rep.Code != 354 {
						t.Fatalf("DATA: %v", rep)
					}
					id := fmt.Sprintf("smuggle-%s-%d@client.test.example", mode, i)
					payload := "Subject: outer\r\nMessage-ID: <" + id + ">\r\n\r\nouter body" + seq +
						"MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@ext.example>\r\nDATA\r\n" +
						"Subject: smuggled\r\n\r\nsmuggled body\r\n.\r\n"
					if err := c.Write(payload); err != nil {
						t.Fatal(err)
					}
					// Read every reply the hop gives within a short while:
					// a lenient hop would answer the hidden commands too.
					var replies []Reply
					for j := 0; j < 5; j++ {
						wait := 500 * time.Millisecond
						if j == 0 {
							wait = 20 * time.Second
						}
						rep := c.readWithin(wait)
						if rep.Err != nil {
							break
						}
						replies = append(replies, rep)
					}
					if len(replies) != 1 {
						t.Errorf("replies to one DATA = %v, want exactly one", replies)
					}
					if len(replies) > 0 {
						switch {
						case mode == "reject" && replies[0].Class() != 5:
							t.Errorf("reject mode: reply %v, want 5xx", replies[0])
						case mode == "normalise" && replies[0].Code == 250:
							accepted++
						}
					}
					for _, d := range sink.Quiet(500*time.Millisecond, nil) {
						if d.From == "evil@attacker.example" || len(d.To) != 1 || d.To[0] != recipient || d.Header("Subject") != "outer" {
							t.Errorf("sink received a smuggled message: from=%s to=%v\n%s", d.From, d.To, d.Data)
						}
					}
				})
			}
			got := sink.Quiet(time.Second, nil)
			if mode == "reject" && len(got) != 0 {
				t.Errorf("reject mode: sink received %d messages, want none", len(got))
			}
			if mode == "normalise" && len(got) != accepted {
				t.Errorf("normalise mode: sink received %d messages for %d accepted transactions", len(got), accepted)
			}
		})
	}
}

// TestForwardTLS: STARTTLS in and out, and the TLS-chain rule.
func TestForwardTLS(t *testing.T) {
	needMaildlp(t)
	dir := tempDir(t, "maildlp-pki-")
	pki := newPKI(t, dir)

	tlsSink := NewTLSSink(t, pki.ServerConfig())
	plainSink := NewSink(t)
	tlsOpts := fmt.Sprintf("[reinject.tls]\ncert_file = %q\nkey_file = %q\nca_file = %q\nserver_name = \"localhost\"\n", pki.CertFile, pki.KeyFile, pki.CAFile)

	sendTLS := func(addr string, m Msg) Result {
		c, greet := Dial(addr)
		if c == nil || greet.Code != 220 {
			return Result{Stage: "connect", Final: greet}
		}
		defer c.Close()
		if r := c.Ehlo("client.test.example"); r.Code != 250 {
			return Result{Stage: "ehlo", Final: r}
		}
		if _, ok := c.Ext["STARTTLS"]; !ok {
			return Result{Stage: "ehlo", Final: Reply{Err: fmt.Errorf("no STARTTLS offered: %v", c.Ext)}}
		}
		if r := c.StartTLS(pki.ClientConfig()); r.Err != nil || r.Code != 220 {
			return Result{Stage: "starttls", Final: r}
		}
		c.Ext = nil
		return c.Send(m.From, m.To, m.Bytes())
	}

	t.Run("in-and-out", func(t *testing.T) {
		r := newForwardRig(t, []*Sink{tlsSink}, tlsOpts)
		m := cleanMsg("tls-both")
		wantAccepted(t, sendTLS(r.dlp.HopAddr(), m))
		d := tlsSink.Wait(1, 10*time.Second, withID(m.ID))[0]
		if !d.TLS {
			t.Errorf("downstream session was not encrypted")
		}
	})

	t.Run("chain-rule", func(t *testing.T) {
		r := newForwardRig(t, []*Sink{plainSink}, tlsOpts)
		m := cleanMsg("tls-chain")
		res := sendTLS(r.dlp.HopAddr(), m)
		if res.Final.Class() != 4 {
			t.Errorf("TLS upstream, plaintext-only downstream: %v, want 4xx (no downgrade)", res)
		}
		if got := plainSink.Quiet(time.Second, withID(m.ID)); len(got) != 0 {
			t.Errorf("message leaked over plaintext")
		}
		// A plaintext upstream may go to a plaintext downstream.
		m2 := cleanMsg("tls-plain")
		wantAccepted(t, SendMail(r.dlp.HopAddr(), m2.From, m2.To, m2.Bytes()))
		plainSink.Wait(1, 10*time.Second, withID(m2.ID))
	})
}

// TestForwardPostfix: Postfix's after-queue content_filter hands mail to
// the hop in forwarding mode. First next hop down: the second takes it;
// all down: Postfix keeps the message queued and it is delivered once
// when a next hop is back.
func TestForwardPostfix(t *testing.T) {
	needMaildlp(t)
	a, b := NewSink(t), NewSink(t)
	dlp := NewMaildlp(t, DLPConfig{
		Policies:    testPolicies,
		NotifyRelay: a.Addr(),
		Reinject:    fmt.Sprintf("mode = \"forward\"\nnext_hops = [%q, %q]\n", a.Addr(), b.Addr()),
	})
	// Postfix's own relayhost is a third sink that must stay empty: every
	// message leaves through the hop.
	direct := NewSink(t)
	pf := NewPostfix(t, PostfixConfig{
		Relay:     direct.Addr(),
		Fragments: variantFiles(t, reflectVariants[0]),
		Rewrite:   map[string]string{"10025": strconv.Itoa(dlp.HopPort), "10026": strconv.Itoa(freePort(t))},
	})
	send := func(tag string) (Msg, []byte) {
		m := cleanMsg(tag)
		b := m.Bytes()
		wantAccepted(t, SendMail(pf.Addr(), m.From, m.To, b))
		return m, b
	}

	t.Run("clean", func(t *testing.T) {
		m, sent := send("fwdpf-clean")
		checkCleanDelivery(t, a, m.ID, sent)
	})
	t.Run("first-hop-down", func(t *testing.T) {
		a.Stop()
		defer a.Start()
		m, sent := send("fwdpf-second")
		checkCleanDelivery(t, b, m.ID, sent)
	})
	t.Run("all-hops-down", func(t *testing.T) {
		a.Stop()
		b.Stop()
		m, sent := send("fwdpf-later")
		pf.WaitQueue(20*time.Second, "message queued after a failed attempt", func(q []QueueEntry) bool {
			return len(q) == 1 && len(q[0].Recipients) == 1 && q[0].Recipients[0].DelayReason != ""
		})
		b.Start()
		pf.Flush()
		checkCleanDelivery(t, b, m.ID, sent)
		a.Start()
		if got := a.Quiet(time.Second, withID(m.ID)); len(got) != 0 {
			t.Errorf("delivered to both next hops")
		}
	})
	if got := direct.Quiet(time.Second, nil); len(got) != 0 {
		t.Errorf("Postfix delivered %d message(s) around the hop", len(got))
	}
}
