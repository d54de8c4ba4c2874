package milter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/extract"
)

func TestScanTimeoutKeepsMTAAliveThenFails(t *testing.T) {
	// The engine is slower than the client's read timeout: only PROGRESS
	// packets keep the session alive until the scan deadline.
	slow := func(ctx context.Context, m policy.Message) action.Verdict {
		io.Copy(io.Discard, m.Body)
		<-ctx.Done()
		return action.Verdict{Action: action.Pass}
	}
	rec := &recorder{}
	_, addr := startServer(t, &fakeEngine{evaluate: slow}, WithRecorder(rec),
		WithLimits(2500*time.Millisecond), WithProgressInterval(100*time.Millisecond))
	m := simpleMessage()
	m.readTimeout = time.Second
	start := time.Now()
	r := m.send(t, addr)
	if r.end.SMTPCode != 451 || r.end.SMTPReply != "451 4.7.1 Message could not be scanned, try again later" {
		t.Errorf("final action = %v, want 451 scan failure", r.end)
	}
	if d := time.Since(start); d < 2400*time.Millisecond || d > 8*time.Second {
		t.Errorf("answer after %v, want about the 2.5s deadline", d)
	}
	if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrScanTimeout) || ds[0].Applied != action.TempFail {
		t.Errorf("decision = %+v, want ErrScanTimeout tempfail", ds[0])
	}
}

func TestTimeoutOutcomeQuarantine(t *testing.T) {
	slow := func(ctx context.Context, m policy.Message) action.Verdict { <-ctx.Done(); return action.Verdict{} }
	_, addr := startServer(t, &fakeEngine{evaluate: slow}, WithLimits(200*time.Millisecond),
		WithFailure(config.Failure{OnTimeout: config.OutcomeQuarantine}))
	r := simpleMessage().send(t, addr)
	want := []string{`Quarantine "maildlp: message not scanned: scan deadline exceeded"`}
	if got := modStrings(r.mods); r.end.Type != gomilter.ActionAccept || !equalStrings(got, want) {
		t.Errorf("got %v %q, want accept with %q", r.end, got, want)
	}
}

func TestStalledEngineDoesNotBlockMTA(t *testing.T) {
	// An engine that neither reads nor returns: body writes must not block
	// the MTA past the scan deadline.
	stuck := func(ctx context.Context, m policy.Message) action.Verdict { <-ctx.Done(); return action.Verdict{} }
	rec := &recorder{}
	_, addr := startServer(t, &fakeEngine{evaluate: stuck}, WithRecorder(rec), WithLimits(300*time.Millisecond))
	m := simpleMessage()
	m.body = bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 1<<14) // 1 MiB
	start := time.Now()
	r := m.send(t, addr)
	if r.end.SMTPCode != 451 {
		t.Errorf("final action = %v, want 451", r.end)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled engine held the MTA for %v", d)
	}
	if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrScanTimeout) {
		t.Errorf("decision error = %v, want ErrScanTimeout", ds[0].Err)
	}
}

func TestOversizeMessage(t *testing.T) {
	const limit = 64 << 10
	big := bytes.Repeat([]byte("x123456789 business text with numbers 1234 5678\r\n"), 20000) // ~1 MiB
	// An engine that stops reading at the limit, as the extractor does.
	stopsAtLimit := func(report bool) func(context.Context, policy.Message) action.Verdict {
		return func(_ context.Context, m policy.Message) action.Verdict {
			n, _ := io.Copy(io.Discard, io.LimitReader(m.Body, limit+1))
			v := action.Verdict{Action: action.Pass}
			if report && n > limit {
				v.Action = action.Quarantine
				v.IncidentID = "INC-BIG"
				v.Unscannable = []action.Unscannable{{Location: "message", Reason: string(extract.TooLarge)}}
			}
			return v
		}
	}
	lim := config.Limits{MaxMessageBytes: config.ByteSize(limit)}
	t.Run("unscannable outcome applies", func(t *testing.T) {
		_, addr := startServer(t, &fakeEngine{evaluate: stopsAtLimit(true), limits: lim})
		m := simpleMessage()
		m.body = big
		r := m.send(t, addr)
		if r.end.Type != gomilter.ActionAccept || len(r.mods) == 0 || r.mods[0].Type != gomilter.ActionQuarantine {
			t.Errorf("got %v %q, want quarantine", r.end, modStrings(r.mods))
		}
	})
	t.Run("never a silent pass", func(t *testing.T) {
		rec := &recorder{}
		_, addr := startServer(t, &fakeEngine{evaluate: stopsAtLimit(false), limits: lim}, WithRecorder(rec))
		m := simpleMessage()
		m.body = big
		r := m.send(t, addr)
		if r.end.SMTPCode != 451 {
			t.Errorf("final action = %v, want 451 (on_error)", r.end)
		}
		if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrEngine) {
			t.Errorf("decision error = %v, want ErrEngine", ds[0].Err)
		}
	})
}

func TestOverload(t *testing.T) {
	for _, tt := range []struct {
		outcome  config.Outcome
		wantMail gomilter.ActionType
		wantMods []string
	}{
		{config.OutcomeTempFail, gomilter.ActionRejectWithCode, nil},
		{config.OutcomeAccept, gomilter.ActionAccept, nil},
		{config.OutcomeQuarantine, gomilter.ActionContinue, []string{`Quarantine "maildlp: message not scanned: too many concurrent sessions"`}},
	} {
		t.Run("outcome "+tt.outcome.String(), func(t *testing.T) {
			rec := &recorder{}
			eng := &fakeEngine{}
			srv, addr := startServer(t, eng, WithRecorder(rec), WithMaxSessions(1), WithFailure(config.Failure{OnOverload: tt.outcome}))
			// Hold the one allowed session open.
			c := gomilter.NewClient("tcp", addr)
			held, err := c.Session(gomilter.NewMacroBag())
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			if _, err := held.Conn("h", gomilter.FamilyInet, 1, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, "one session", func() bool { return srv.Sessions() == 1 })

			r := simpleMessage().send(t, addr)
			if r.mail.Type != tt.wantMail {
				t.Fatalf("MAIL reply = %v, want type %d", r.mail, tt.wantMail)
			}
			if tt.wantMail == gomilter.ActionRejectWithCode && r.mail.SMTPCode != 451 {
				t.Errorf("MAIL reply = %v, want 451", r.mail)
			}
			if got := modStrings(r.mods); !equalStrings(got, tt.wantMods) {
				t.Errorf("modifications = %q, want %q", got, tt.wantMods)
			}
			if calls, _, _ := eng.snapshot(); calls != 0 {
				t.Errorf("overloaded session was scanned")
			}
			if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrOverload) {
				t.Errorf("decision error = %v, want ErrOverload", ds[0].Err)
			}
			// Once the held session ends, new sessions are scanned again.
			held.Close()
			testutil.WaitFor(t, "no session", func() bool { return srv.Sessions() == 0 })
			if r := simpleMessage().send(t, addr); r.end == nil || len(r.mods) != 1 {
				t.Errorf("after overload: %v %q, want a scanned message", r.end, modStrings(r.mods))
			}
		})
	}
}

func TestSeveralMessagesOnOneConnection(t *testing.T) {
	eng := &fakeEngine{}
	_, addr := startServer(t, eng)
	c := gomilter.NewClient("tcp", addr)
	macros := gomilter.NewMacroBag()
	s, err := c.Session(macros)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Conn("client.example.net", gomilter.FamilyInet, 4000, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Helo("client"); err != nil {
		t.Fatal(err)
	}
	// First message aborted in the body (RSET), second complete.
	if _, err := s.Mail("a@example.com", ""); err != nil {
		t.Fatal(err)
	}
	s.Rcpt("b@example.org", "")
	s.DataStart()
	s.HeaderField("Subject", " one", nil)
	s.HeaderEnd()
	s.BodyChunk([]byte("first body\r\n"))
	if err := s.Abort(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mail("c@example.com", ""); err != nil {
		t.Fatal(err)
	}
	s.Rcpt("d@example.org", "")
	s.DataStart()
	s.HeaderField("Subject", " two", nil)
	s.HeaderEnd()
	mods, act, err := s.BodyReadFrom(strings.NewReader("second body\r\n"))
	if err != nil || act.Type != gomilter.ActionAccept || len(mods) != 1 {
		t.Fatalf("second message: %v %v %v", mods, act, err)
	}
	calls, got, env := eng.snapshot()
	if string(got) != "Subject: two\r\n\r\nsecond body\r\n" || env.MailFrom != "c@example.com" || !equalStrings(env.Rcpts, []string{"d@example.org"}) {
		t.Errorf("second message seen as %q from %q to %q (calls %d)", got, env.MailFrom, env.Rcpts, calls)
	}
}

func TestMissingActionFallsBackToOnError(t *testing.T) {
	// An MTA that does not grant recipient changes: a redirect must not be
	// half applied.
	rec := &recorder{}
	v := action.Verdict{Action: action.Redirect, RedirectTo: []string{"review@example.com"}}
	_, addr := startServer(t, &fakeEngine{verdict: v}, WithRecorder(rec))
	c := gomilter.NewClient("tcp", addr, gomilter.WithActions(gomilter.OptAddHeader|gomilter.OptChangeHeader|gomilter.OptQuarantine))
	s, err := c.Session(gomilter.NewMacroBag())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Conn("h", gomilter.FamilyInet, 4000, "192.0.2.1")
	s.Helo("h")
	s.Mail("a@example.com", "")
	s.Rcpt("b@example.org", "")
	s.DataStart()
	s.HeaderEnd()
	mods, act, err := s.BodyReadFrom(strings.NewReader("body\r\n"))
	if err != nil || act.SMTPCode != 451 || len(mods) != 0 {
		t.Errorf("got %q %v %v, want 451 and no modifications", modStrings(mods), act, err)
	}
}

func TestWithoutLeadingSpaceOption(t *testing.T) {
	// An MTA that does not offer SMFIP_HDR_LEADSPC swallows the space after
	// the colon and adds it back to headers the milter adds.
	eng := &fakeEngine{verdict: action.Verdict{Action: action.Modify, SubjectPrefix: "[DLP]"}}
	_, addr := startServer(t, eng)
	m := simpleMessage()
	m.headers = [][2]string{{"From", "a@example.com"}, {"Subject", "Payroll"}}
	r, err := m.trySendWith(addr, gomilter.WithProtocols(wantProtocol&^gomilter.OptHeaderLeadingSpace))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`ChangeHeader 1 "Subject" "[DLP] Payroll"`, `AddHeader "X-Filter-Loop" "Reflected"`}
	if got := modStrings(r.mods); !equalStrings(got, want) {
		t.Errorf("modifications = %q, want %q", got, want)
	}
	if _, got, _ := eng.snapshot(); !strings.HasPrefix(string(got), "From: a@example.com\r\nSubject: Payroll\r\n\r\n") {
		t.Errorf("engine read %q", got)
	}
}

func TestMaxMessageBytesGuardAtLimit(t *testing.T) {
	// The guard against a silent pass: at the limit the verdict stands, one
	// byte past it a pass without an unscannable finding is an error.
	m := simpleMessage()
	size := int64(len(m.wire()))
	for _, tt := range []struct {
		limit int64
		want  uint16 // 0: accepted
	}{
		{size, 0},
		{size - 1, 451},
	} {
		lim := config.Limits{MaxMessageBytes: config.ByteSize(tt.limit)}
		_, addr := startServer(t, &fakeEngine{limits: lim})
		r := m.send(t, addr)
		if tt.want == 0 && r.end.Type != gomilter.ActionAccept || tt.want != 0 && r.end.SMTPCode != tt.want {
			t.Errorf("message of %d bytes, limit %d: %v, want %d", size, tt.limit, r.end, tt.want)
		}
	}
}

func TestShutdown(t *testing.T) {
	s := newServer(config.Milter{}.WithDefaults(), func() engine { return &fakeEngine{} }, WithLogger(testutil.Logger(t)))
	ln, err := Listen("inet:127.0.0.1:0", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	// A session the MTA keeps open.
	held, err := gomilter.NewClient("tcp", ln.Addr().String()).Session(gomilter.NewMacroBag())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	held.Conn("h", gomilter.FamilyInet, 1, "192.0.2.1")
	testutil.WaitFor(t, "the held session", func() bool { return s.Sessions() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with an open session = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after Shutdown = %v, want nil", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Errorf("listener still accepts after Shutdown")
	}
	testutil.WaitFor(t, "the held session to close", func() bool { return s.Sessions() == 0 })
}

func TestIncomingPassHeaderReplaced(t *testing.T) {
	_, addr := startServer(t, &fakeEngine{})
	m := simpleMessage()
	m.headers = append(m.headers, [2]string{"X-Filter-Loop", " Reflected"}, [2]string{"x-filter-loop", " forged"})
	r := m.send(t, addr)
	want := []string{`ChangeHeader 2 "X-Filter-Loop" ""`, `ChangeHeader 1 "X-Filter-Loop" ""`, `AddHeader "X-Filter-Loop" " Reflected"`}
	if got := modStrings(r.mods); !equalStrings(got, want) {
		t.Errorf("modifications = %q, want %q", got, want)
	}
}

func TestEngineGetsHeldMessageSized(t *testing.T) {
	// The engine reads the message at end of message, knowing its size up
	// front, and never more than max_message_bytes + 1 of it.
	big := bytes.Repeat([]byte("x123456789 business text with numbers 1234 5678\r\n"), 3000) // ~150 KiB, 5 blocks
	for _, tt := range []struct {
		name  string
		limit int64
		body  []byte
	}{
		{"small", 1 << 20, []byte("Hello Bob,\r\nsee attached.\r\n")},
		{"several blocks", 1 << 20, big},
		{"past the limit", 64<<10 + 7, big},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := simpleMessage()
			m.body = tt.body
			wire := m.wire()
			want := wire[:min(int64(len(wire)), tt.limit+1)]
			var mu sync.Mutex
			var hint int
			var got []byte
			lim := config.Limits{MaxMessageBytes: config.ByteSize(tt.limit)}
			eng := &fakeEngine{limits: lim, evaluate: func(_ context.Context, pm policy.Message) action.Verdict {
				h := -1
				if l, ok := pm.Body.(interface{ Len() int }); ok {
					h = l.Len()
				}
				b, err := io.ReadAll(pm.Body)
				mu.Lock()
				defer mu.Unlock()
				hint, got = h, b
				if err != nil {
					return action.Verdict{Err: err}
				}
				return action.Verdict{Action: action.Quarantine, Unscannable: []action.Unscannable{{Location: "message", Reason: "too_large"}}}
			}}
			_, addr := startServer(t, eng)
			m.send(t, addr)
			mu.Lock()
			defer mu.Unlock()
			if string(got) != want {
				t.Errorf("engine read %d bytes, want the first %d of the message", len(got), len(want))
			}
			if hint != len(want) {
				t.Errorf("size hint: got %d, want Len() reporting the %d unread bytes", hint, len(want))
			}
		})
	}
}
