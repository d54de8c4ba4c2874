package quarantine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const mailqSample = `		/var/spool/mqueue (2 requests)
-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------
5B3Lr1Ab012345     1234 Fri Mar 20 15:46 <alice@example.com>
     QUARANTINE: held by data protection policy PCI (incident 01JD)
                                         <bob@example.net>
                                         <carol@example.net>
5B3Lr1Ab012346*      99 Fri Dec 19 09:01 <>
                 (Deferred: Connection refused by mx.example.net.)
     QUARANTINE: held by data protection policy HR
                                         <dave@example.net>
		Total requests: 2
`

func TestParseMailq(t *testing.T) {
	now := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	got, err := ParseMailq(strings.NewReader(mailqSample), 1<<20, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{QueueID: "5B3Lr1Ab012345", Size: 1234, Arrival: time.Date(2027, 3, 20, 15, 46, 0, 0, time.UTC).AddDate(-1, 0, 0),
			Sender: "alice@example.com", Recipients: []string{"bob@example.net", "carol@example.net"},
			Reason: "held by data protection policy PCI (incident 01JD)"},
		{QueueID: "5B3Lr1Ab012346", Size: 99, Arrival: time.Date(2026, 12, 19, 9, 1, 0, 0, time.UTC),
			Sender: "", Recipients: []string{"dave@example.net"}, Reason: "held by data protection policy HR"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMailq =\n%+v\nwant\n%+v", got, want)
	}
	for _, bad := range []string{"ALL 12 Fri Mar 20 15:46 <a>\n", "5B3Lr1Ab012345 1x Fri Mar 20 15:46 <a>\n", "   <orphan@x>\n"} {
		if _, err := ParseMailq(strings.NewReader(bad), 1<<20, now); err == nil {
			t.Errorf("ParseMailq(%q) accepted", bad)
		}
	}
	if got, err := ParseMailq(strings.NewReader("\t\t/var/spool/mqueue is empty\n\t\tTotal requests: 0\n"), 1<<20, now); err != nil || len(got) != 0 {
		t.Errorf("empty queue: %v, %v", got, err)
	}
}

// fakeSendmail plays Sendmail's quarantine queue: jobs are hf files in
// dir; -Q with -qQ -qI turns hf into qf (released), -qI runs a job
// (deletes its files, as a delivery would).
type fakeSendmail struct {
	dir string
	ran []string
}

func (f *fakeSendmail) run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.ran = append(f.ran, strings.Join(args, " "))
	switch {
	case reflect.DeepEqual(args, []string{"-bp", "-qQ"}):
		var b strings.Builder
		b.WriteString("-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\n")
		hfs, _ := filepath.Glob(filepath.Join(f.dir, "hf*"))
		for _, hf := range hfs {
			id := strings.TrimPrefix(filepath.Base(hf), "hf")
			b.WriteString(id + "     10 Fri Mar 20 15:46 <a@x.example>\n     QUARANTINE: held\n          <b@y.example>\n")
		}
		return []byte(b.String()), nil
	case len(args) == 3 && args[0] == "-qQ" && args[2] == "-Q":
		id := strings.TrimPrefix(args[1], "-qI")
		return nil, os.Rename(filepath.Join(f.dir, "hf"+id), filepath.Join(f.dir, "qf"+id))
	case len(args) == 1 && strings.HasPrefix(args[0], "-qI"):
		id := strings.TrimPrefix(args[0], "-qI")
		os.Remove(filepath.Join(f.dir, "qf"+id))
		os.Remove(filepath.Join(f.dir, "df"+id))
		return nil, nil
	}
	return nil, errors.New("fake sendmail: unexpected " + strings.Join(args, " "))
}

func TestSendmail(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"hf5B3Lr1Ab012345", "df5B3Lr1Ab012345", "hf5B3Lr1Ab012346", "df5B3Lr1Ab012346", "hf5B3Lr1Ab0123"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600)
	}
	f := &fakeSendmail{dir: dir}
	s := &Sendmail{QueueDir: dir, Run: f.run}
	ctx := context.Background()

	if err := s.Release(ctx, "5B3Lr1Ab012345"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if want := []string{"-bp -qQ", "-qQ -qI5B3Lr1Ab012345 -Q", "-bp -qQ", "-qI5B3Lr1Ab012345"}; !reflect.DeepEqual(f.ran, want) {
		t.Errorf("ran %q, want %q", f.ran, want)
	}
	if err := s.Delete(ctx, "5B3Lr1Ab012346"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, n := range []string{"hf5B3Lr1Ab012346", "df5B3Lr1Ab012346"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Delete", n)
		}
	}
	// -qI matches substrings: an id inside another held id is refused.
	os.WriteFile(filepath.Join(dir, "hf5B3Lr1Ab01234599"), []byte("x"), 0o600)
	if err := s.Release(ctx, "5B3Lr1Ab0123"); err == nil || !strings.Contains(err.Error(), "part of") {
		t.Errorf("Release of a substring id = %v, want a refusal", err)
	}
	if err := s.Delete(ctx, "5B3Lr1Ab012346"); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Delete of a deleted message = %v, want ErrNotHeld", err)
	}
	if err := s.Release(ctx, "-qQ-x"); !errors.Is(err, ErrQueueID) {
		t.Errorf("Release(-qQ-x) = %v, want ErrQueueID", err)
	}
}
