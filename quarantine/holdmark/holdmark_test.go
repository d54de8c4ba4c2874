package holdmark

import (
	"errors"
	"strings"
	"testing"
)

func TestMarkRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	m := Mark{IncidentID: "01JDA3XYZ", SessionID: "sess-1.2"}
	v := New(key, m)
	got, err := Parse(key, v)
	if err != nil || got != m {
		t.Fatalf("Parse(New(%+v)) = %+v, %v", m, got, err)
	}
	if _, err := Parse([]byte("another key"), v); !errors.Is(err, ErrForged) {
		t.Errorf("other key: %v, want ErrForged", err)
	}
	forged := strings.Replace(v, "i=01JDA3XYZ", "i=01JDA3XYY", 1)
	if _, err := Parse(key, forged); !errors.Is(err, ErrForged) {
		t.Errorf("changed incident: %v, want ErrForged", err)
	}
	for _, bad := range []string{"", "v1", "v2 i=a s=b m=c", "v1 i= s=b m=c", "v1 i=a\r\n s=b m=c x", "v1 i=a;b s=b m=c"} {
		if _, err := Parse(key, bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	// Whatever the ids hold, the value stays one line of safe characters.
	v = New(key, Mark{IncidentID: "a\r\nBcc: x", SessionID: strings.Repeat("s", 500)})
	if strings.ContainsAny(v, "\r\n") {
		t.Errorf("New = %q", v)
	}
	if _, err := Parse(key, v); err != nil {
		t.Errorf("Parse of a cleaned mark: %v", err)
	}
}

func TestQueuedAs(t *testing.T) {
	for in, want := range map[string]string{
		"2.0.0 Ok: queued as 4XyZ1AbCdE":          "4XyZ1AbCdE",
		"Ok: queued as 3dTq9b1Xyzz9z1Hx4a (long)": "3dTq9b1Xyzz9z1Hx4a",
		"2.0.0 Message accepted for delivery":     "",
		"queued as ALL":                           "",
		"queued as ../../etc":                     "",
	} {
		if got := QueuedAs(in); got != want {
			t.Errorf("QueuedAs(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	key := []byte("k")
	f.Add(New(key, Mark{IncidentID: "i", SessionID: "s"}))
	f.Add("v1 i=a s=b m=c")
	f.Fuzz(func(t *testing.T, v string) {
		m, err := Parse(key, v)
		if err != nil {
			return
		}
		// Only New makes a mark that verifies, and it makes this one.
		if New(key, m) != strings.Join(strings.Fields(v), " ") {
			t.Fatalf("Parse(%q) = %+v, but New gives %q", v, m, New(key, m))
		}
	})
}
