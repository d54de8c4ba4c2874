package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func sample(i int) Incident {
	sev := []string{"low", "medium", "high", "critical"}[i%4]
	return Incident{
		ID:            fmt.Sprintf("INC%06d", i),
		Time:          t0.Add(time.Duration(i) * time.Second),
		Node:          []string{"a", "b"}[i%2],
		MTAHost:       "mx" + []string{"a", "b"}[i%2],
		Frontend:      "milter",
		QueueID:       fmt.Sprintf("Q%d", i),
		Sender:        fmt.Sprintf("user%d@example.com", i%10),
		Recipients:    []Recipient{{Address: fmt.Sprintf("r%d@Partner%d.example", i, i%3), Action: "quarantine"}, {Address: "boss@example.com", Action: "quarantine"}},
		Action:        []string{"quarantine", "block", "pass"}[i%3],
		VerdictAction: "quarantine",
		Policies:      []Policy{{Name: fmt.Sprintf("pol%d", i%5), Severity: sev, Mode: "prevent", Action: "quarantine", Enforced: true}},
		Detections:    []Detection{{Type: "credit_card", Count: 1, Confidence: "high", Evidence: []string{"****1111"}, Locations: []string{"body/1"}}},
		Unscannable:   []Unscannable{{Location: "body/2/a.zip", Reason: "encrypted"}},
	}
}

func TestIssue10InsertGetList(t *testing.T) {
	eachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var ins []Incident
		for i := range 100 {
			ins = append(ins, sample(i))
		}
		n, err := s.Insert(ctx, ins)
		if err != nil || n != 100 {
			t.Fatalf("Insert = %d, %v; want 100", n, err)
		}
		// Replay: nothing new.
		if n, err := s.Insert(ctx, ins[:10]); err != nil || n != 0 {
			t.Fatalf("Insert again = %d, %v; want 0", n, err)
		}
		got, err := s.Get(ctx, "INC000007")
		if err != nil {
			t.Fatal(err)
		}
		if got.Sender != "user7@example.com" || len(got.Recipients) != 2 || got.Policies[0].Name != "pol2" ||
			got.Detections[0].Evidence[0] != "****1111" || got.Unscannable[0].Reason != "encrypted" ||
			got.Status != StatusNew || got.Severity != "critical" || !got.Time.Equal(t0.Add(7*time.Second)) {
			t.Errorf("Get = %+v", got)
		}
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(nope) = %v, want ErrNotFound", err)
		}

		// Every filter, paged by 7, gives exactly the matching incidents newest first.
		filters := []struct {
			f     Filter
			match func(i int) bool
		}{
			{Filter{}, func(int) bool { return true }},
			{Filter{Policy: "pol3"}, func(i int) bool { return i%5 == 3 }},
			{Filter{Severity: "high"}, func(i int) bool { return i%4 == 2 }},
			{Filter{Action: "block"}, func(i int) bool { return i%3 == 1 }},
			{Filter{Node: "b"}, func(i int) bool { return i%2 == 1 }},
			{Filter{Sender: "user4@example.com"}, func(i int) bool { return i%10 == 4 }},
			{Filter{RecipientDomain: "partner1.example"}, func(i int) bool { return i%3 == 1 }},
			{Filter{RecipientDomain: "example.com"}, func(int) bool { return true }},
			{Filter{Policy: "pol1", RecipientDomain: "PARTNER2.example"}, func(i int) bool { return i%5 == 1 && i%3 == 2 }},
			{Filter{Since: t0.Add(10 * time.Second), Until: t0.Add(20 * time.Second)}, func(i int) bool { return i >= 10 && i < 20 }},
			{Filter{Policy: "pol0", Since: t0.Add(50 * time.Second)}, func(i int) bool { return i%5 == 0 && i >= 50 }},
			{Filter{Status: StatusConfirmed}, func(int) bool { return false }},
		}
		for _, tc := range filters {
			var want, have []string
			for i := 99; i >= 0; i-- {
				if tc.match(i) {
					want = append(want, fmt.Sprintf("INC%06d", i))
				}
			}
			cur := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("paging does not end")
				}
				got, next, err := s.List(ctx, tc.f, Page{After: cur, Limit: 7})
				if err != nil {
					t.Fatal(err)
				}
				for _, in := range got {
					have = append(have, in.ID)
					if len(in.Recipients) != 2 || len(in.Policies) != 1 {
						t.Errorf("List row %s without recipients or policies", in.ID)
					}
				}
				if next == "" {
					break
				}
				cur = next
			}
			if strings.Join(have, ",") != strings.Join(want, ",") {
				t.Errorf("List(%+v) = %v, want %v", tc.f, have, want)
			}
		}
	})
}

func TestIssue10ReviewEvents(t *testing.T) {
	eachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.Insert(ctx, []Incident{sample(1)}); err != nil {
			t.Fatal(err)
		}
		who := Actor{Name: "alice", Addr: "192.0.2.7"}
		if err := s.SetStatus(ctx, "INC000001", StatusInReview, who, "looking"); err != nil {
			t.Fatal(err)
		}
		if err := s.Assign(ctx, "INC000001", "bob", who, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.Note(ctx, "INC000001", "called the sender", who); err != nil {
			t.Fatal(err)
		}
		if err := s.SetStatus(ctx, "INC000001", StatusFalsePositive, who, "test data"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetStatus(ctx, "INC000001", "bogus", who, ""); err == nil {
			t.Error("SetStatus(bogus) succeeded")
		}
		if err := s.SetStatus(ctx, "nope", StatusConfirmed, who, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetStatus(nope) = %v", err)
		}
		in, _ := s.Get(ctx, "INC000001")
		if in.Status != StatusFalsePositive || in.Assignee != "bob" {
			t.Errorf("after review: status %s assignee %s", in.Status, in.Assignee)
		}
		evs, err := s.Events(ctx, EventFilter{IncidentID: "INC000001"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, e.Kind+":"+e.Before+">"+e.After+":"+e.Reason+":"+e.Actor+"@"+e.SourceAddr)
		}
		want := "status:new>in_review:looking:alice@192.0.2.7 assign:>bob::alice@192.0.2.7 note:>:called the sender:alice@192.0.2.7 status:in_review>false_positive:test data:alice@192.0.2.7"
		if strings.Join(got, " ") != want {
			t.Errorf("events = %q\nwant     %q", strings.Join(got, " "), want)
		}
		// Append-only: the database itself refuses changes.
		for _, q := range []string{`UPDATE events SET reason = 'x'`, `DELETE FROM events`} {
			if _, err := s.DB().ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want append-only refusal", q, err)
			}
		}
	})
}

func TestIssue10ClaimRequestsOnce(t *testing.T) {
	eachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		who := Actor{Name: "alice"}
		if err := s.PutHeld(ctx, Held{MTAHost: "mxb", QueueID: "4QXyz", IncidentID: "INC1", Node: "b"}, "hold", Actor{Name: "maildlp"}, "policy"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddRequest(ctx, Request{Kind: RequestRelease, Node: "b", MTAHost: "mxb", QueueID: "4QXyz", Actor: "alice"}); err == nil {
			t.Error("request without reason accepted")
		}
		const n = 40
		for i := range n {
			if _, err := s.AddRequest(ctx, Request{Kind: RequestRelease, Node: "b", MTAHost: "mxb", QueueID: fmt.Sprint("Q", i), Reason: "ok", Actor: "alice"}); err != nil {
				t.Fatal(err)
			}
		}
		s.AddRequest(ctx, Request{Kind: RequestDelete, Node: "a", MTAHost: "mxa", QueueID: "QA", Reason: "spam", Actor: "alice"})
		// Four claimers of node b at once: each request exactly once.
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					rs, err := s.ClaimRequests(ctx, "b", 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(rs) == 0 {
						return
					}
					mu.Lock()
					for _, r := range rs {
						seen[r.ID]++
						if r.Node != "b" || r.State != RequestClaimed {
							t.Errorf("claimed %+v", r)
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d requests, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("request %d claimed %d times", id, c)
			}
		}
		rs, _ := s.ClaimRequests(ctx, "a", 10)
		if len(rs) != 1 || rs[0].Kind != RequestDelete {
			t.Fatalf("node a claimed %+v", rs)
		}
		if err := s.FinishRequest(ctx, rs[0].ID, true, "postsuper: deleted", who); err != nil {
			t.Fatal(err)
		}
		r, _ := s.GetRequest(ctx, rs[0].ID)
		if r.State != RequestDone || r.Result != "postsuper: deleted" || r.Done.IsZero() {
			t.Errorf("finished request = %+v", r)
		}
		h, err := s.GetHeld(ctx, "mxb", "4QXyz")
		if err != nil || h.State != HeldHeld || h.Node != "b" || h.IncidentID != "INC1" {
			t.Errorf("GetHeld = %+v, %v", h, err)
		}
		evs, _ := s.Events(ctx, EventFilter{MTAHost: "mxa", QueueID: "QA"})
		if len(evs) != 2 || evs[0].Kind != "delete_requested" || evs[1].Kind != "delete_done" {
			t.Errorf("events of QA = %+v", evs)
		}
	})
}

func TestIssue10Purge(t *testing.T) {
	eachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var ins []Incident
		for i := range 50 {
			ins = append(ins, sample(i))
		}
		s.Insert(ctx, ins)
		s.Note(ctx, "INC000003", "keep me", Actor{Name: "alice"})
		total := 0
		for {
			n, err := s.Purge(ctx, t0.Add(30*time.Second), 7)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if n > 7 {
				t.Fatalf("Purge deleted %d in one batch of 7", n)
			}
			total += n
		}
		if total != 30 {
			t.Errorf("purged %d, want 30", total)
		}
		all, _, _ := s.List(ctx, Filter{}, Page{Limit: 1000})
		if len(all) != 20 || all[len(all)-1].ID != "INC000030" {
			t.Errorf("left %d incidents", len(all))
		}
		if got, _, _ := s.List(ctx, Filter{RecipientDomain: "example.com"}, Page{Limit: 1000}); len(got) != 20 {
			t.Errorf("domain index left %d", len(got))
		}
		if evs, _ := s.Events(ctx, EventFilter{IncidentID: "INC000003"}); len(evs) != 1 {
			t.Errorf("events of a purged incident: %d, want kept", len(evs))
		}
	})
}

// TestIssue10HostileText stores an incident whose sender, HELO and
// recipient carry NUL and invalid UTF-8 (they come from the SMTP client):
// both dialects take it, with the bad bytes replaced.
func TestIssue10HostileText(t *testing.T) {
	eachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		in := sample(1)
		in.Sender = "evil\x00@example.com"
		in.HELO = "bad\xff\xfehelo"
		in.Recipients = []Recipient{{Address: "x\x00y@exa\xffmple.net", Action: "block"}}
		if _, err := s.Insert(ctx, []Incident{in}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Sender != "evil\uFFFD@example.com" || got.HELO != "bad\uFFFDhelo" || got.Recipients[0].Address != "x\uFFFDy@exa\uFFFDmple.net" {
			t.Errorf("stored %q %q %q", got.Sender, got.HELO, got.Recipients[0].Address)
		}
		if err := s.Note(ctx, in.ID, "note\x00with nul", Actor{Name: "a\xff"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestIssue10UnclaimAndListRequests(t *testing.T) {
	eachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := t0
		s.SetClock(func() time.Time { return now })
		for i := range 3 {
			if _, err := s.AddRequest(ctx, Request{Kind: RequestRelease, Node: "b", MTAHost: "mxb", QueueID: fmt.Sprint("Q", i), Reason: "ok", Actor: "alice"}); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := s.ClaimRequests(ctx, "b", 2)
		if err != nil || len(rs) != 2 {
			t.Fatalf("claimed %d, %v", len(rs), err)
		}
		s.FinishRequest(ctx, rs[0].ID, true, "released", Actor{Name: "maildlp@b"})
		now = t0.Add(time.Hour)
		n, err := s.Unclaim(ctx, "b", t0.Add(time.Minute), Actor{Name: "maildlp@b"})
		if err != nil || n != 1 {
			t.Fatalf("Unclaim = %d, %v; want the one claimed and unfinished", n, err)
		}
		pending, _ := s.Requests(ctx, RequestFilter{Node: "b", State: RequestPending})
		if len(pending) != 2 || pending[0].ID != rs[1].ID {
			t.Errorf("pending after unclaim = %+v", pending)
		}
		done, _ := s.Requests(ctx, RequestFilter{QueueID: "Q0"})
		if len(done) != 1 || done[0].State != RequestDone {
			t.Errorf("request of Q0 = %+v", done)
		}
		evs, _ := s.Events(ctx, EventFilter{MTAHost: "mxb", QueueID: rs[1].QueueID})
		if len(evs) != 2 || evs[1].Kind != "release_unclaimed" {
			t.Errorf("events = %+v", evs)
		}
	})
}
