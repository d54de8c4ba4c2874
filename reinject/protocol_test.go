package reinject

import (
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/maildlp/maildlp/config"
)

func TestEHLOKeywords(t *testing.T) {
	mta := newFakeMTA(t, nil)
	p := newPKI(t)
	cert, key, _ := p.issue(t, "hop", "127.0.0.1")
	cfg := reflectCfg(mta.addr())
	cfg.TLS.CertFile, cfg.TLS.KeyFile = cert, key
	cfg.MaxMessageBytes = 1 << 20
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	got := up.hello()
	var keys []string
	for _, l := range strings.Split(got, "\n")[1:] {
		keys = append(keys, l[4:])
	}
	want := []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS", "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE", "HELP", "DSN", "SMTPUTF8", "SIZE 1048576", "LIMITS RCPTMAX=1000"}
	if !slices.Equal(keys, want) {
		t.Fatalf("EHLO keywords = %q, want %q", keys, want)
	}
	if got := up.cmd("HELP"); !strings.HasPrefix(got, "214 2.0.0 ") {
		t.Errorf("HELP = %q", got)
	}
	if got := up.cmd("VRFY b@example.com"); !strings.HasPrefix(got, "252 ") {
		t.Errorf("VRFY = %q", got)
	}
	// BDAT is refused (CHUNKING not offered) and the connection ends, so
	// the chunk is never read as commands.
	up.expect("MAIL FROM:<a@example.com>", "250")
	up.expect("RCPT TO:<b@example.com>", "250")
	if got := up.cmd("BDAT 20 LAST"); !strings.HasPrefix(got, "554 5.5.1 ") {
		t.Errorf("BDAT = %q", got)
	}
	up.send("MAIL FROM:<x@y>\r\n")
	if got := up.read(); !strings.HasPrefix(got, "ERR ") {
		t.Errorf("after BDAT the connection is open: %q", got)
	}
	if n := len(mta.messages()); n != 0 {
		t.Errorf("delivered %d", n)
	}
}

// Every known bare-CR/LF sequence: none may end the message or start a
// second one downstream.
var smuggling = []struct{ name, seq string }{
	{"LF.LF", "\n.\n"},
	{"CR.CR", "\r.\r"},
	{"CRLF.CR", "\r\n.\r"},
	{"CRLF.LF", "\r\n.\n"},
	{"LF.CRLF", "\n.\r\n"},
	{"CR.CRLF", "\r.\r\n"},
	{"CR.LF", "\r.\n"},
	{"LF.CR", "\n.\r"},
	{"CRCR.CRLF", "\r\r.\r\n"},
	{"bare LF", "\n"},
	{"bare CR", "\r"},
}

func TestSmugglingSequences(t *testing.T) {
	for _, mode := range []string{"reject", "normalise"} {
		for _, sm := range smuggling {
			t.Run(mode+"/"+sm.name, func(t *testing.T) {
				mta := newFakeMTA(t, nil)
				cfg := reflectCfg(mta.addr())
				cfg.BareNewline = config.BareNewline(mode)
				eng := &fakeEngine{}
				_, addr := startHop(t, eng, cfg)
				up := dialUp(t, addr)
				up.hello()
				up.expect("MAIL FROM:<a@example.com>", "250")
				up.expect("RCPT TO:<b@example.com>", "250")
				up.expect("DATA", "354")
				body := "Subject: x\r\n\r\nbefore" + sm.seq + "MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nsmuggled\r\n"
				up.send(body + ".\r\n")
				got := up.read()
				msgs := mta.messages()
				for _, c := range mta.commands() {
					if strings.Contains(c, "evil@") || strings.Contains(c, "victim@") {
						t.Fatalf("smuggled command reached the downstream: %q", mta.commands())
					}
				}
				if mode == "reject" {
					if want := "550 5.5.2 "; !strings.HasPrefix(got, want) {
						t.Fatalf("reply = %q, want %s", got, want)
					}
					if len(msgs) != 0 {
						t.Fatalf("delivered %d messages, want 0", len(msgs))
					}
					up.expect("NOOP", "250") // the session is still in step
					return
				}
				if !strings.HasPrefix(got, "250 ") {
					t.Fatalf("reply = %q, want 250", got)
				}
				if len(msgs) != 1 {
					t.Fatalf("delivered %d messages, want 1", len(msgs))
				}
				d := string(msgs[0].Data)
				if strings.Contains(strings.ReplaceAll(d, "\r\n", ""), "\r") || strings.Contains(strings.ReplaceAll(d, "\r\n", ""), "\n") {
					t.Errorf("bare CR/LF delivered: %q", d)
				}
				if !strings.Contains(d, "smuggled\r\n") || !strings.Contains(d, "MAIL FROM:<evil@example.com>\r\n") {
					t.Errorf("smuggled text not kept as body: %q", d)
				}
				if len(eng.bodies) != 1 || string(eng.bodies[0]) != strings.TrimPrefix(d, "X-Filter-Loop: Reflected\r\n") {
					t.Errorf("engine saw %q, downstream got %q", eng.bodies, d)
				}
			})
		}
	}
}

func TestXForwardPassedOn(t *testing.T) {
	mta := newFakeMTA(t, nil) // offers XFORWARD NAME ADDR PROTO HELO IDENT SOURCE
	eng := &fakeEngine{}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	up.expect("XFORWARD NAME=mail.client.test ADDR=192.0.2.7 PORT=40123", "250 2.0.0")
	up.expect("XFORWARD PROTO=ESMTP HELO=client+2Etest IDENT=4XyZ12 SOURCE=REMOTE", "250 2.0.0")
	if got := up.cmd("XFORWARD BOGUS=1"); !strings.HasPrefix(got, "501 5.5.4") {
		t.Errorf("bad attribute -> %q", got)
	}
	if got := up.cmd("XFORWARD NAME=bad+zz"); !strings.HasPrefix(got, "501 5.5.4") {
		t.Errorf("bad xtext -> %q", got)
	}
	up.expect("MAIL FROM:<a@example.com>", "250")
	if got := up.cmd("XFORWARD NAME=x"); !strings.HasPrefix(got, "503 5.5.1") {
		t.Errorf("XFORWARD in a transaction -> %q", got)
	}
	up.expect("RCPT TO:<b@example.com>", "250")
	up.expect("DATA", "354")
	up.send(testMsg + ".\r\n")
	up.read()
	msgs := mta.messages()
	if len(msgs) != 1 {
		t.Fatalf("delivered %d", len(msgs))
	}
	// PORT is not offered by this downstream, so it is left out.
	want := []string{"XFORWARD NAME=mail.client.test ADDR=192.0.2.7 PROTO=ESMTP HELO=client+2Etest IDENT=4XyZ12 SOURCE=REMOTE"}
	if !slices.Equal(msgs[0].XFwd, want) {
		t.Errorf("downstream XFORWARD = %q, want %q", msgs[0].XFwd, want)
	}
	env := eng.envelopes()[0]
	if env.ClientAddr != "192.0.2.7" || env.ClientName != "mail.client.test" || env.HELO != "client.test" || env.QueueID != "4XyZ12" {
		t.Errorf("envelope = %+v, want the XFORWARD client and queue id", env)
	}
	// Attributes end with the transaction.
	up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg)
	if msgs := mta.messages(); len(msgs) != 2 || msgs[1].XFwd != nil {
		t.Errorf("second transaction XFORWARD = %q, want none", msgs[1].XFwd)
	}
}

func TestXForwardDisabledOrNotOffered(t *testing.T) {
	off := false
	mta := newFakeMTA(t, func(f *fakeMTA) { f.ehlo = []string{"8BITMIME"} })
	cfg := reflectCfg(mta.addr())
	cfg.XForward = &off
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	if strings.Contains(up.hello(), "XFORWARD") {
		t.Error("XFORWARD offered while disabled")
	}
	if got := up.cmd("XFORWARD NAME=x"); !strings.HasPrefix(got, "50") {
		t.Errorf("XFORWARD while disabled -> %q", got)
	}

	// Enabled, but the downstream does not offer it: nothing sent.
	mta2 := newFakeMTA(t, func(f *fakeMTA) { f.ehlo = []string{"8BITMIME"} })
	_, addr2 := startHop(t, &fakeEngine{}, reflectCfg(mta2.addr()))
	up2 := dialUp(t, addr2)
	up2.hello()
	up2.expect("XFORWARD ADDR=192.0.2.1", "250")
	up2.sendMessage("a@example.com", []string{"b@example.com"}, testMsg)
	for _, c := range mta2.commands() {
		if strings.HasPrefix(c, "XFORWARD") {
			t.Errorf("XFORWARD sent to a downstream that does not offer it: %q", c)
		}
	}
}

func TestParametersPassedAsSent(t *testing.T) {
	tests := []struct {
		name     string
		ehlo     []string
		mail     string
		rcpt     string
		wantMail string
		wantRcpt string
	}{
		{"all offered", nil,
			"MAIL FROM:<a@example.com> SIZE=123 BODY=7BIT RET=HDRS ENVID=QQ314159+2Bx",
			"RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.com",
			"MAIL FROM:<a@example.com> SIZE=123 BODY=7BIT RET=HDRS ENVID=QQ314159+2Bx",
			"RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.com"},
		{"8BITMIME body", nil,
			"MAIL FROM:<a@example.com> BODY=8BITMIME", "RCPT TO:<b@example.com>",
			"MAIL FROM:<a@example.com> BODY=8BITMIME", "RCPT TO:<b@example.com>"},
		{"no DSN downstream", []string{"SIZE 1000000", "8BITMIME"},
			"MAIL FROM:<a@example.com> RET=FULL BODY=7BIT SIZE=99",
			"RCPT TO:<b@example.com> NOTIFY=NEVER",
			"MAIL FROM:<a@example.com> BODY=7BIT SIZE=99", "RCPT TO:<b@example.com>"},
		{"bare downstream", []string{"PIPELINING"},
			"MAIL FROM:<a@example.com> SIZE=99 BODY=8BITMIME", "RCPT TO:<b@example.com>",
			"MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>"},
		{"null sender, quoted local part", nil,
			"MAIL FROM:<> RET=HDRS", `RCPT TO:<"odd> name"@example.com> NOTIFY=DELAY`,
			"MAIL FROM:<> RET=HDRS", `RCPT TO:<"odd> name"@example.com> NOTIFY=DELAY`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mta := newFakeMTA(t, func(f *fakeMTA) {
				if tt.ehlo != nil {
					f.ehlo = tt.ehlo
				}
			})
			_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
			up := dialUp(t, addr)
			up.hello()
			up.expect(tt.mail, "250")
			up.expect(tt.rcpt, "250")
			up.expect("DATA", "354")
			up.send(testMsg + ".\r\n")
			if got := up.read(); !strings.HasPrefix(got, "250 ") {
				t.Fatalf("final = %q", got)
			}
			m := mta.messages()[0]
			if m.Mail != tt.wantMail || len(m.Rcpts) != 1 || m.Rcpts[0] != tt.wantRcpt {
				t.Errorf("downstream got %q %q, want %q %q", m.Mail, m.Rcpts, tt.wantMail, tt.wantRcpt)
			}
		})
	}
}

func TestAllowList(t *testing.T) {
	cfg := reflectCfg("127.0.0.1:1")
	cfg.Allow = config.MustNetworks("10.0.0.0/8", "192.0.2.1")
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	if got := up.read(); !strings.HasPrefix(got, "554 5.7.1 ") {
		t.Fatalf("greeting for a client outside the list = %q, want 554", got)
	}
	if got := up.read(); !strings.HasPrefix(got, "ERR ") {
		t.Fatalf("connection still open: %q", got)
	}
}

func TestLimits(t *testing.T) {
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.MaxRecipients = 2
	cfg.MaxMessageBytes = 2000
	cfg.MaxConnections = 1
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()

	t.Run("connections", func(t *testing.T) {
		up2 := dialUp(t, addr)
		if got := up2.read(); !strings.HasPrefix(got, "421 4.7.0 ") {
			t.Fatalf("second connection greeting = %q, want 421", got)
		}
	})
	t.Run("recipients", func(t *testing.T) {
		up.expect("MAIL FROM:<a@example.com>", "250")
		up.expect("RCPT TO:<b1@example.com>", "250")
		up.expect("RCPT TO:<b2@example.com>", "250")
		up.expect("RCPT TO:<b3@example.com>", "452 4.5.3")
		up.expect("RSET", "250")
	})
	t.Run("SIZE", func(t *testing.T) {
		up.expect("MAIL FROM:<a@example.com> SIZE=2001", "552 5.3.4")
		up.expect("MAIL FROM:<a@example.com> SIZE=2000", "250")
		up.expect("RSET", "250")
	})
	t.Run("message size", func(t *testing.T) {
		at := testMsg + strings.Repeat("x", 2000-len(testMsg)-2) + "\r\n"
		if got := up.sendMessage("a@example.com", []string{"b@example.com"}, at); !strings.HasPrefix(got, "250 ") {
			t.Fatalf("message of exactly the limit: %q", got)
		}
		over := testMsg + strings.Repeat("x", 2001-len(testMsg)-2) + "\r\n"
		if got := up.sendMessage("a@example.com", []string{"b@example.com"}, over); !strings.HasPrefix(got, "552 5.3.4") {
			t.Fatalf("message one byte over: %q", got)
		}
		if n := len(mta.messages()); n != 1 {
			t.Fatalf("delivered %d, want 1", n)
		}
	})
}

func TestLineLength(t *testing.T) {
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.MaxLineLength = 1000
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()
	ok := "Subject: x\r\n\r\n" + strings.Repeat("y", 998) + "\r\n"
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, ok); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("line at the limit: %q", got)
	}
	long := "Subject: x\r\n\r\n" + strings.Repeat("y", 1001) + "\r\n"
	got := up.sendMessage("a@example.com", []string{"b@example.com"}, long)
	if !strings.HasPrefix(got, "554 5.3.4") {
		t.Fatalf("line over the limit: %q, want 554 5.3.4", got)
	}
	up.expect("NOOP", "250") // the rest of the data was not read as commands
	if got := up.cmd("MAIL FROM:<" + strings.Repeat("z", 1000) + "@example.com>"); !strings.HasPrefix(got, "500 5.4.0") {
		t.Fatalf("command line over the limit: %q, want 500 5.4.0", got)
	}
	if n := len(mta.messages()); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
}

func TestDataIdleTimeout(t *testing.T) {
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.Timeouts.DataIdle = config.Duration(300 * time.Millisecond)
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()
	up.expect("MAIL FROM:<a@example.com>", "250")
	up.expect("RCPT TO:<b@example.com>", "250")
	up.expect("DATA", "354")
	up.send("Subject: x\r\n\r\npartial")
	start := time.Now()
	got := up.read()
	if !strings.HasPrefix(got, "451 4.4.2 ") {
		t.Fatalf("reply = %q, want 451 4.4.2", got)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v", el)
	}
	// The rest is not read as commands: the connection ends.
	up.send("\r\nMAIL FROM:<x@example.com>\r\n")
	for i := 0; i < 3; i++ {
		if r := up.read(); strings.HasPrefix(r, "ERR ") {
			break
		} else if strings.HasPrefix(r, "250") {
			t.Fatalf("data after the timeout was read as a command: %q", r)
		}
	}
	if n := len(mta.messages()); n != 0 {
		t.Fatalf("delivered %d", n)
	}
}

func TestStartTLSAndChainRule(t *testing.T) {
	p := newPKI(t)
	hopCert, hopKey, _ := p.issue(t, "hop", "127.0.0.1")
	_, _, mtaTLS := p.issue(t, "mta", "mta.test", "127.0.0.1")
	clientTLS := &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}

	tests := []struct {
		name       string
		mtaTLS     bool
		outbound   string
		downgrade  bool
		upTLS      bool
		wantMail   string
		wantTLSOut bool
	}{
		{"tls in, tls out", true, "opportunistic", false, true, "250", true},
		{"tls in, no tls downstream", false, "opportunistic", false, true, "451 4.7.5", false},
		{"tls in, downgrade allowed", false, "opportunistic", true, true, "250", false},
		{"plain in, opportunistic", true, "opportunistic", false, false, "250", true},
		{"plain in, none", true, "none", false, false, "250", false},
		{"plain in, required, not offered", false, "required", false, false, "451 4.4.1", false},
		{"plain in, required, offered", true, "required", false, false, "250", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mta := newFakeMTA(t, func(f *fakeMTA) {
				if tt.mtaTLS {
					f.tls = mtaTLS
					f.ehlo = append(f.ehlo, "STARTTLS")
				}
			})
			cfg := reflectCfg(mta.addr())
			cfg.TLS = config.ReinjectTLS{CertFile: hopCert, KeyFile: hopKey, CAFile: p.caFile, ServerName: "mta.test",
				Outbound: config.TLSOutbound(tt.outbound), DowngradeAllowed: tt.downgrade}
			_, addr := startHop(t, &fakeEngine{}, cfg)

			var c *smtp.Client
			var err error
			if tt.upTLS {
				c, err = smtp.DialStartTLS(addr, clientTLS)
			} else {
				c, err = smtp.Dial(addr)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, ok := c.TLSConnectionState(); ok != tt.upTLS {
				t.Fatalf("upstream TLS = %v, want %v", ok, tt.upTLS)
			}
			err = c.Mail("a@example.com", nil)
			if tt.wantMail != "250" {
				se, ok := err.(*smtp.SMTPError)
				if !ok || fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2]) != tt.wantMail {
					t.Fatalf("MAIL error = %v, want %s", err, tt.wantMail)
				}
				return
			}
			if err != nil {
				t.Fatalf("MAIL: %v", err)
			}
			if err := c.Rcpt("b@example.com", nil); err != nil {
				t.Fatal(err)
			}
			w, err := c.Data()
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, testMsg)
			if err := w.Close(); err != nil {
				t.Fatalf("DATA: %v", err)
			}
			msgs := mta.messages()
			if len(msgs) != 1 || msgs[0].TLS != tt.wantTLSOut {
				t.Fatalf("delivered %+v, want one with TLS=%v", msgs, tt.wantTLSOut)
			}
		})
	}
}

func TestStartTLSDiscardsInjectedCommands(t *testing.T) {
	p := newPKI(t)
	hopCert, hopKey, _ := p.issue(t, "hop", "127.0.0.1")
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.TLS.CertFile, cfg.TLS.KeyFile = hopCert, hopKey
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()
	// Plaintext sent together with STARTTLS must not be run after it.
	up.send("STARTTLS\r\nMAIL FROM:<injected@example.com>\r\n")
	if got := up.read(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("STARTTLS -> %q", got)
	}
	tc := tls.Client(up.c, &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	tu := &upstream{t: t, c: tc, br: newReader(tc)}
	if got := tu.cmd("RCPT TO:<b@example.com>"); !strings.HasPrefix(got, "503 5.5.1") {
		t.Fatalf("command before EHLO after STARTTLS -> %q, want 503", got)
	}
	tu.expect("EHLO client.test", "250")
	if got := tu.cmd("RCPT TO:<b@example.com>"); !strings.HasPrefix(got, "502") {
		t.Fatalf("RCPT without MAIL after TLS -> %q: the injected MAIL ran", got)
	}
	for _, c := range mta.commands() {
		if strings.Contains(c, "injected") {
			t.Fatalf("injected command relayed: %q", c)
		}
	}
}
