package quarantine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakePostfix answers postqueue and postsuper like Postfix does, from a
// map of queue id to queue name, and records the commands it ran.
type fakePostfix struct {
	mu    sync.Mutex
	queue map[string]string
	ran   []string
	fail  map[string]error  // by program + first argument, e.g. "postqueue -i"
	marks map[string]string // hold mark value by queue id (postcat -h)
}

func (f *fakePostfix) get(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queue[id]
}

func (f *fakePostfix) run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(args) >= 2 && args[0] == "-c" {
		args = args[2:]
	}
	cmd := filepath.Base(name) + " " + strings.Join(args, " ")
	f.ran = append(f.ran, cmd)
	if err := f.fail[filepath.Base(name)+" "+args[0]]; err != nil {
		return nil, err
	}
	switch filepath.Base(name) + " " + args[0] {
	case "postqueue -j":
		ids := make([]string, 0, len(f.queue))
		for id := range f.queue {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var b strings.Builder
		for _, id := range ids {
			e := map[string]any{"queue_name": f.queue[id], "queue_id": id, "arrival_time": 1764000000,
				"message_size": 321, "forced_expire": false, "sender": "alice@test.example",
				"recipients": []map[string]string{{"address": "bob@ext.example"}}}
			j, _ := json.Marshal(e)
			b.Write(j)
			b.WriteByte('\n')
		}
		return []byte(b.String()), nil
	case "postsuper -H":
		if f.queue[args[1]] == "hold" {
			f.queue[args[1]] = "deferred"
		}
	case "postsuper -d":
		if f.queue[args[1]] == args[2] {
			delete(f.queue, args[1])
		}
	case "postqueue -i":
	case "postcat -h":
		if v := f.marks[args[2]]; v != "" {
			return []byte("Received: from x\nX-Maildlp-Hold: " + v + "\nSubject: s\n"), nil
		}
		return []byte("Received: from x\nSubject: s\n"), nil
	default:
		return nil, fmt.Errorf("fake postfix: unexpected %s", cmd)
	}
	return nil, nil
}

func newFakePostfix() (*fakePostfix, *Postfix) {
	f := &fakePostfix{queue: map[string]string{"4XyZ1AbCdE": "hold", "5AbCdEfGh1": "deferred", "6HoLd22222": "hold"}}
	return f, &Postfix{ConfigDir: "/etc/postfix-out", BinDir: "/usr/sbin", Run: f.run}
}

func TestPostfixHeld(t *testing.T) {
	_, p := newFakePostfix()
	held, err := p.Held(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range held {
		ids = append(ids, m.QueueID)
	}
	if want := []string{"4XyZ1AbCdE", "6HoLd22222"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("Held = %v, want %v", ids, want)
	}
	m := held[0]
	if m.Sender != "alice@test.example" || m.Size != 321 || m.Arrival.Unix() != 1764000000 ||
		!reflect.DeepEqual(m.Recipients, []string{"bob@ext.example"}) {
		t.Errorf("Held[0] = %+v", m)
	}
}

func TestPostfixReleaseDelete(t *testing.T) {
	ctx := context.Background()
	f, p := newFakePostfix()
	if err := p.Release(ctx, "4XyZ1AbCdE"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if f.queue["4XyZ1AbCdE"] != "deferred" {
		t.Errorf("after release the message is in %q, want deferred", f.queue["4XyZ1AbCdE"])
	}
	want := []string{"postqueue -j", "postsuper -H 4XyZ1AbCdE", "postqueue -j", "postqueue -i 4XyZ1AbCdE"}
	if !reflect.DeepEqual(f.ran, want) {
		t.Errorf("ran %q, want %q", f.ran, want)
	}

	f.ran = nil
	if err := p.Delete(ctx, "6HoLd22222"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, ok := f.queue["6HoLd22222"]; ok {
		t.Error("deleted message still queued")
	}
	if want := []string{"postqueue -j", "postsuper -d 6HoLd22222 hold", "postqueue -j"}; !reflect.DeepEqual(f.ran, want) {
		t.Errorf("ran %q, want %q", f.ran, want)
	}

	// A message of another queue, one already released, and ids that are
	// not one queue id never reach postsuper.
	for _, id := range []string{"5AbCdEfGh1", "4XyZ1AbCdE", "ALL", "-", "-d", "ABC DEF123", "../../x", ""} {
		f.ran = nil
		for _, op := range []func(context.Context, string) error{p.Release, p.Delete} {
			err := op(ctx, id)
			if !errors.Is(err, ErrNotHeld) && !errors.Is(err, ErrQueueID) {
				t.Errorf("on %q: err = %v, want ErrNotHeld or ErrQueueID", id, err)
			}
		}
		for _, c := range f.ran {
			if strings.HasPrefix(c, "postsuper") {
				t.Errorf("on %q ran %s", id, c)
			}
		}
	}
}

// TestPostfixReleaseKickFails: the message left the hold queue, so the
// release counts, with a note that delivery waits for the next queue run.
func TestPostfixReleaseKickFails(t *testing.T) {
	f, p := newFakePostfix()
	f.fail = map[string]error{"postqueue -i": errors.New("flush service unavailable")}
	err := p.Release(context.Background(), "4XyZ1AbCdE")
	if err == nil || !Released(err) {
		t.Fatalf("Release = %v, want an error for which Released is true", err)
	}
	if Released(ErrNotHeld) {
		t.Error("Released(ErrNotHeld) = true")
	}
}

// TestPostfixPostsuperNoop: postsuper exits 0 when it finds nothing to
// do; Release must notice the message is still held.
func TestPostfixPostsuperNoop(t *testing.T) {
	f, p := newFakePostfix()
	p.Run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		if strings.HasSuffix(name, "postsuper") {
			f.ran = append(f.ran, "postsuper (ignored)")
			return nil, nil
		}
		return f.run(ctx, name, args...)
	}
	if err := p.Release(context.Background(), "4XyZ1AbCdE"); err == nil || Released(err) {
		t.Fatalf("Release with a postsuper that did nothing = %v, want a failure", err)
	}
}

func TestParsePostqueue(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // held ids, nil with wantErr
		wantErr  string
	}{
		{"empty", "", nil, ""},
		{"blank lines", "\n\n  \n", nil, ""},
		{"extra fields", `{"queue_name":"hold","queue_id":"ABCDEF1","new_field":{"x":[1]},"recipients":[{"address":"a@b","delay_reason":"x"}]}`, []string{"ABCDEF1"}, ""},
		{"other queues", `{"queue_name":"active","queue_id":"ABCDEF1"}` + "\n" + `{"queue_name":"hold","queue_id":"ABCDEF2"}`, []string{"ABCDEF2"}, ""},
		{"not json", `queue_name hold`, nil, "line 1"},
		{"two objects", `{"queue_name":"hold","queue_id":"ABCDEF1"} {"queue_name":"hold","queue_id":"ABCDEF2"}`, nil, "more than one"},
		{"bad id", `{"queue_name":"hold","queue_id":"ALL"}`, nil, "invalid queue id"},
		{"option id", `{"queue_name":"hold","queue_id":"-dALL00"}`, nil, "invalid queue id"},
		{"unknown queue", `{"queue_name":"holdx","queue_id":"ABCDEF1"}`, nil, "unknown queue name"},
		{"wrong type", `{"queue_name":"hold","queue_id":"ABCDEF1","message_size":"big"}`, nil, "line 1"},
		{"second line bad", `{"queue_name":"hold","queue_id":"ABCDEF1"}` + "\n{", nil, "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePostqueue(strings.NewReader(tc.in), 1<<20)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePostqueue(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePostqueue(%q): %v", tc.in, err)
			}
			var ids []string
			for _, m := range got {
				ids = append(ids, m.QueueID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("ParsePostqueue(%q) = %v, want %v", tc.in, ids, tc.want)
			}
		})
	}
}

// TestParsePostqueueLineLimit: a line over the limit fails the listing
// (never a partial list), at the limit it parses.
func TestParsePostqueueLineLimit(t *testing.T) {
	line := `{"queue_name":"hold","queue_id":"ABCDEF1","sender":"` + strings.Repeat("a", 200) + `"}`
	if _, err := ParsePostqueue(strings.NewReader(line+"\n"), int64(len(line)+1)); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, err := ParsePostqueue(strings.NewReader(line+"\n"), int64(len(line)-1))
	if !errors.Is(err, ErrListingTooLarge) {
		t.Fatalf("past the limit: err = %v, want ErrListingTooLarge", err)
	}
}

func TestExecRunnerCap(t *testing.T) {
	run := ExecRunner(10)
	if _, err := run(context.Background(), "sh", "-c", "printf 0123456789"); err != nil {
		t.Fatalf("10 bytes with a cap of 10: %v", err)
	}
	if _, err := run(context.Background(), "sh", "-c", "printf 0123456789x"); !errors.Is(err, ErrListingTooLarge) {
		t.Fatalf("11 bytes with a cap of 10: %v, want ErrListingTooLarge", err)
	}
	if _, err := run(context.Background(), "sh", "-c", "echo oops >&2; exit 3"); err == nil || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("failing command: %v, want its stderr in the error", err)
	}
}
