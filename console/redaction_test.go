package console

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
)

// TestIssue11NoRawValueOnAnyPage renders every page over incidents made
// by the real engine from messages with card numbers and an IBAN, after
// the actions an analyst takes, and searches each page's HTML, its
// decoded text and every URL in it for the raw values: only masked
// evidence may appear.
func TestIssue11NoRawValueOnAnyPage(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	c := f.signedIn("admin")
	var locations []string
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/incidents/" + ins[1].ID + "/status", url.Values{"status": {"confirmed"}}},
		{"/incidents/" + ins[1].ID + "/note", url.Values{"text": {"looked at it"}}},
		{"/held/mta-a/Q0000/release", url.Values{"reason": {"approved"}}},
		{"/views", url.Values{"name": {"v"}, "query": {"severity=high"}}},
	} {
		r := c.post(p.path, p.form)
		locations = append(locations, r.hdr.Get("Location"))
	}
	paths := pagePaths(ins)
	for _, in := range ins {
		paths = append(paths, "/incidents/"+in.ID, "/incidents?sender="+url.QueryEscape(in.Sender))
	}
	evidence := 0
	hrefRe := regexp.MustCompile(`(?:href|action|value)="([^"]*)"`)
	for _, who := range []string{"admin", "viewer"} {
		cl := f.signedIn(who)
		for _, p := range paths {
			r := cl.get(p)
			if r.code != 200 && !(who == "viewer" && p == "/users") {
				t.Errorf("%s GET %s = %d", who, p, r.code)
			}
			texts := []string{r.body, html.UnescapeString(r.body)}
			for _, m := range hrefRe.FindAllStringSubmatch(r.body, -1) {
				if u, err := url.QueryUnescape(html.UnescapeString(m[1])); err == nil {
					texts = append(texts, u)
				}
			}
			for _, m := range testMessages {
				for _, raw := range m.raw {
					for _, tx := range texts {
						if strings.Contains(tx, raw) || strings.Contains(strings.ReplaceAll(tx, " ", ""), strings.ReplaceAll(raw, " ", "")) {
							t.Errorf("%s GET %s shows the raw value %s", who, p, raw)
						}
					}
				}
			}
			if strings.Contains(p, "/incidents/inc") && strings.Contains(r.body, "Evidence (masked)") {
				evidence += strings.Count(r.body, `<td class="mono">`)
			}
		}
	}
	if evidence == 0 {
		t.Fatal("no evidence shown at all: the test would pass on empty pages")
	}
	for _, l := range append(locations, f.client().get("/incidents/"+ins[0].ID).hdr.Get("Location")) {
		for _, m := range testMessages {
			for _, raw := range m.raw {
				if strings.Contains(l, strings.ReplaceAll(raw, " ", "")) {
					t.Errorf("redirect %s carries %s", l, raw)
				}
			}
		}
	}
}
