package console

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzLocalPath: whatever a login link's next= holds, the redirect stays
// on this site: a path that a browser resolves against the console's own
// origin.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/incidents?x=1", "//evil.example", "/\\evil.example", "https://evil.example/",
		"/%2F/evil", "javascript:alert(1)", "/incidents/a b", "\t//x", "/a\r\nLocation: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := localPath(s)
		if p == "/" {
			return
		}
		if p != s {
			t.Fatalf("localPath(%q) = %q: rewritten, not kept or refused", s, p)
		}
		u, err := url.Parse(p)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
			strings.ContainsAny(p, "\\\r\n\t") {
			t.Fatalf("localPath(%q) = %q leaves the site", s, p)
		}
	})
}

// FuzzParseFilter: any query either is refused or yields a filter whose
// saved form parses to the same filter (a saved view means what was
// shown).
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"severity=high&since=2026-12-01", "status=new&last=7d", "policy=PCI%3A+cards&rcpt_domain=@x.example",
		"until=2026-12-01T14:30", "status=bogus", "since=yesterday", "last=1y", "a=%zz"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		flt, err := parseFilter(v, now)
		if err != nil {
			return
		}
		again, err := url.ParseQuery(filterQuery(v).Encode())
		if err != nil {
			t.Fatalf("saved query of %q does not parse: %v", s, err)
		}
		flt2, err := parseFilter(again, now)
		if err != nil || flt2 != flt {
			t.Fatalf("filter of %q = %+v, its saved view gives %+v, %v", s, flt, flt2, err)
		}
	})
}

// FuzzHeldCursor: a cursor from a page link or an attacker parses or is
// refused, and one we make comes back as made.
func FuzzHeldCursor(f *testing.F) {
	f.Add(int64(1733480000000000), "mx-1", "4Q2x7")
	f.Add(int64(0), "a/b", "c%d")
	f.Fuzz(func(t *testing.T, us int64, host, queue string) {
		c := strings.Join([]string{strconv.FormatInt(us, 10), url.PathEscape(host), url.PathEscape(queue)}, "/")
		u, h, q, err := parseHeldCursor(c)
		if err != nil || u != us || h != host || q != queue {
			t.Fatalf("cursor %q = %d %q %q %v, want %d %q %q", c, u, h, q, err, us, host, queue)
		}
		parseHeldCursor(host) // arbitrary text: no panic
	})
}
