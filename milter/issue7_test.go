package milter

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/action"
)

func forgedPassHeaders(n int) mta {
	m := simpleMessage()
	for i := range n {
		m.headers = append(m.headers, [2]string{"X-Filter-Loop", fmt.Sprintf(" forged %d", i)})
	}
	return m
}

// TestIssue7PassHeaderFlood: up to max_incoming forged pass headers are
// deleted (one change-header request each); one more and the message is
// refused before it is scanned, with no modification sent at all, or
// deferred when on_too_many is tempfail.
func TestIssue7PassHeaderFlood(t *testing.T) {
	for _, tt := range []struct {
		name     string
		cfg      config.PassHeader
		n        int
		wantCode uint16
		wantMods int
	}{
		{"at the default limit", config.PassHeader{}, config.DefaultPassHeaderMaxIncoming, 0, config.DefaultPassHeaderMaxIncoming + 1},
		{"one past the default limit", config.PassHeader{}, config.DefaultPassHeaderMaxIncoming + 1, 550, 0},
		{"a flood", config.PassHeader{}, 2000, 550, 0},
		{"configured limit", config.PassHeader{MaxIncoming: 2}, 3, 550, 0},
		{"tempfail", config.PassHeader{MaxIncoming: 2, OnTooMany: "tempfail"}, 3, 451, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			eng := &fakeEngine{}
			_, addr := startServer(t, eng, WithRecorder(rec), WithPassHeader(tt.cfg))
			r := forgedPassHeaders(tt.n).send(t, addr)
			if len(r.mods) != tt.wantMods {
				t.Errorf("%d modifications, want %d", len(r.mods), tt.wantMods)
			}
			if tt.wantCode == 0 {
				if r.end.Type != gomilter.ActionAccept {
					t.Errorf("end of message = %+v, want accept", r.end)
				}
				return
			}
			if r.end.SMTPCode != tt.wantCode || !strings.Contains(r.end.SMTPReply, "too many X-Filter-Loop") {
				t.Errorf("end of message = %d %q, want %d naming the header", r.end.SMTPCode, r.end.SMTPReply, tt.wantCode)
			}
			ds := waitDecisions(t, rec, 1)
			if !errors.Is(ds[0].Err, ErrPassHeaders) {
				t.Errorf("decision error = %v, want ErrPassHeaders", ds[0].Err)
			}
			if calls, _, _ := eng.snapshot(); calls != 0 {
				t.Errorf("engine called %d times for a refused message, want 0", calls)
			}
		})
	}
}

// TestIssue7PassHeaderKept: when the MTA does not grant the change-header
// action, a forged pass header cannot be removed: the message gets the
// on_error outcome instead of being delivered with it beside ours. A
// message without one is delivered as usual.
func TestIssue7PassHeaderKept(t *testing.T) {
	rec := &recorder{}
	_, addr := startServer(t, &fakeEngine{verdict: action.Verdict{Action: action.Pass}}, WithRecorder(rec))
	noChange := gomilter.WithActions(gomilter.OptAddHeader | gomilter.OptQuarantine)

	r, err := forgedPassHeaders(1).trySendWith(addr, noChange)
	if err != nil {
		t.Fatal(err)
	}
	if r.end.SMTPCode != 451 || len(r.mods) != 0 {
		t.Errorf("forged header, no change-header action: %q %+v, want 451 and no modification", modStrings(r.mods), r.end)
	}
	if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrPassHeaderKept) {
		t.Errorf("decision error = %v, want ErrPassHeaderKept", ds[0].Err)
	}

	r, err = simpleMessage().trySendWith(addr, noChange)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`AddHeader "X-Filter-Loop" " Reflected"`}; r.end.Type != gomilter.ActionAccept || !equalStrings(modStrings(r.mods), want) {
		t.Errorf("clean message, no change-header action: %q %+v, want accept with %q", modStrings(r.mods), r.end, want)
	}
}
