package console

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/store"
)

func TestIssue11ViewerCannotChangeOrRelease(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	v := f.signedIn("viewer")
	id := ins[0].ID
	for _, a := range []struct {
		path string
		form url.Values
	}{
		{"/incidents/" + id + "/status", url.Values{"status": {"confirmed"}}},
		{"/incidents/" + id + "/assign", url.Values{"assignee": {"viewer"}}},
		{"/incidents/" + id + "/note", url.Values{"text": {"hello"}}},
		{"/incidents/bulk", url.Values{"status": {"confirmed"}, "id": {id}}},
		{"/held/mta-a/Q0000/release", url.Values{"reason": {"false positive"}}},
		{"/held/mta-a/Q0000/delete", url.Values{"reason": {"spam"}}},
		{"/users", url.Values{"name": {"mallory"}, "role": {"admin"}, "password": {testPassword}}},
		{"/users/analyst/role", url.Values{"role": {"viewer"}}},
		{"/users/analyst/delete", nil},
	} {
		if r := v.post(a.path, a.form); r.code != http.StatusForbidden {
			t.Errorf("viewer POST %s = %d, want 403", a.path, r.code)
		}
	}
	if r := v.get("/users"); r.code != http.StatusForbidden {
		t.Errorf("viewer GET /users = %d, want 403", r.code)
	}
	an := f.signedIn("analyst")
	if r := an.get("/users"); r.code != http.StatusForbidden {
		t.Errorf("analyst GET /users = %d, want 403", r.code)
	}
	if r := an.post("/users", url.Values{"name": {"mallory"}, "role": {"admin"}, "password": {testPassword}}); r.code != http.StatusForbidden {
		t.Errorf("analyst POST /users = %d, want 403", r.code)
	}
	// Nothing changed.
	if in, _ := f.st.Get(context.Background(), id); in.Status != store.StatusNew || in.Assignee != "" {
		t.Errorf("incident changed: %s %q", in.Status, in.Assignee)
	}
	if rs, _ := f.srv.requests(context.Background(), requestFilter{}); len(rs) != 0 {
		t.Errorf("%d requests made by a viewer", len(rs))
	}
	if _, err := f.srv.Users().Get(context.Background(), "mallory"); err == nil {
		t.Error("a user was added without the admin role")
	}
	// The viewer's pages offer no action forms.
	d := v.get("/incidents/" + id)
	for _, form := range []string{"/status\"", "/release\"", "/delete\"", "/note\""} {
		if strings.Contains(d.body, form) {
			t.Errorf("viewer's incident page has a %s form", form)
		}
	}
}

func TestIssue11CrossOriginRefused(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	c := f.signedIn("analyst")
	path := "/incidents/" + ins[0].ID + "/status"
	form := url.Values{"status": {"confirmed"}, "csrf": {c.csrf}}
	for name, hdr := range map[string]map[string]string{
		"sec-fetch-site cross-site": {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"origin only":               {"Origin": "https://evil.example"},
		"same-site subdomain":       {"Sec-Fetch-Site": "same-site", "Origin": "http://x.console.test"},
	} {
		req := newFormRequest(path, form)
		req.Header.Del("Origin")
		req.Header.Del("Sec-Fetch-Site")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if r := c.do(req); r.code != http.StatusForbidden {
			t.Errorf("%s: POST = %d, want 403", name, r.code)
		}
	}
	// Without the form token a same-origin POST is refused too.
	if r := c.post(path, url.Values{"status": {"confirmed"}, "csrf": {"forged"}}); r.code != http.StatusForbidden {
		t.Errorf("POST with a wrong form token = %d, want 403", r.code)
	}
	if in, _ := f.st.Get(context.Background(), ins[0].ID); in.Status != store.StatusNew {
		t.Fatalf("status changed by a refused request: %s", in.Status)
	}
	// The same request from the console's origin goes through.
	if r := c.post(path, url.Values{"status": {"confirmed"}}); r.code != http.StatusSeeOther {
		t.Fatalf("same-origin POST = %d, want 303", r.code)
	}
}

func TestIssue11StatusAssignNoteAudited(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	c := f.signedIn("analyst")
	id := ins[1].ID
	steps := []struct {
		path string
		form url.Values
	}{
		{"/incidents/" + id + "/status", url.Values{"status": {"false_positive"}, "reason": {"test data"}}},
		{"/incidents/" + id + "/assign", url.Values{"assignee": {"analyst"}}},
		{"/incidents/" + id + "/note", url.Values{"text": {"checked with the sender"}}},
	}
	for _, s := range steps {
		if r := c.post(s.path, s.form); r.code != http.StatusSeeOther || !strings.HasPrefix(r.hdr.Get("Location"), "/incidents/"+id) {
			t.Fatalf("POST %s = %d %s", s.path, r.code, r.body)
		}
	}
	in, _ := f.st.Get(context.Background(), id)
	if in.Status != store.StatusFalsePositive || in.Assignee != "analyst" {
		t.Fatalf("incident = %s %q", in.Status, in.Assignee)
	}
	evs, _ := f.st.Events(context.Background(), store.EventFilter{IncidentID: id})
	kinds := map[string]store.Event{}
	for _, e := range evs {
		kinds[e.Kind] = e
	}
	st := kinds[store.KindStatus]
	if st.Actor != "analyst" || st.SourceAddr != "192.0.2.50" || st.Before != "new" || st.After != "false_positive" || st.Reason != "test data" {
		t.Errorf("status event = %+v", st)
	}
	if kinds[store.KindNote].Reason != "checked with the sender" || kinds[store.KindAssign].After != "analyst" {
		t.Errorf("events = %+v", evs)
	}
	d := c.get("/incidents/" + id)
	for _, want := range []string{"checked with the sender", "false positive", "test data"} {
		if !strings.Contains(d.body, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	a := c.get("/audit?actor=analyst")
	if !strings.Contains(a.body, "false_positive") || !strings.Contains(a.body, "192.0.2.50") {
		t.Errorf("audit page lacks the status change")
	}
	if r := c.post("/incidents/"+id+"/status", url.Values{"status": {"bogus"}}); r.code != http.StatusBadRequest {
		t.Errorf("bogus status = %d, want 400", r.code)
	}
	if r := c.post("/incidents/nope/status", url.Values{"status": {"confirmed"}}); r.code != http.StatusNotFound {
		t.Errorf("unknown incident = %d, want 404", r.code)
	}
}

func TestIssue11ReleaseNeedsReasonAndShowsResult(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	c := f.signedIn("analyst")
	path := "/held/mta-a/Q0000/release"
	if r := c.post(path, url.Values{"reason": {"  "}}); r.code != http.StatusBadRequest {
		t.Fatalf("release without a reason = %d, want 400", r.code)
	}
	r := c.post(path, url.Values{"reason": {"customer asked, checked"}})
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/incidents/"+ins[0].ID+"?ok=release" {
		t.Fatalf("release = %d %q", r.code, r.hdr.Get("Location"))
	}
	rs, err := f.srv.requests(context.Background(), requestFilter{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("requests = %v, %v", rs, err)
	}
	q := rs[0]
	if q.Kind != store.RequestRelease || q.Node != "node-a" || q.Actor != "analyst" || q.Reason != "customer asked, checked" || q.State != store.RequestPending {
		t.Fatalf("request = %+v", q)
	}
	// A second request while the first is under way is refused.
	if r := c.post("/held/mta-a/Q0000/delete", url.Values{"reason": {"again"}}); r.code != http.StatusBadRequest {
		t.Fatalf("second request = %d, want 400", r.code)
	}
	d := c.get("/incidents/" + ins[0].ID + "?ok=release")
	if !strings.Contains(d.body, "Release requested") || !strings.Contains(d.body, "rs-pending") {
		t.Errorf("detail page does not show the pending request")
	}
	// The node fails to release it: the failure is shown, never hidden.
	claimed, err := f.st.ClaimRequests(context.Background(), "node-a", 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	if err := f.st.FinishRequest(context.Background(), q.ID, false, "postsuper: queue id not found", store.Actor{Name: "node-a"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/quarantine", "/incidents/" + ins[0].ID} {
		b := c.get(p).body
		if !strings.Contains(b, "rs-failed") || !strings.Contains(b, "postsuper: queue id not found") {
			t.Errorf("%s does not show the failed release", p)
		}
	}
	if b := c.get("/quarantine").body; !strings.Contains(b, "1 failed") {
		t.Errorf("quarantine page does not count the failure")
	}
	// After a failure a new request may be made; the audit log has both.
	if r := c.post(path, url.Values{"reason": {"retry"}}); r.code != http.StatusSeeOther {
		t.Fatalf("retry = %d", r.code)
	}
	a := c.get("/audit").body
	for _, want := range []string{"release requested", "release failed", "retry"} {
		if !strings.Contains(a, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	// A message no longer held cannot be released.
	f.st.PutHeld(context.Background(), store.Held{MTAHost: "mta-a", QueueID: "Q0001", IncidentID: ins[1].ID, Node: "node-a", State: store.HeldReleased}, "released", store.Actor{Name: "node-a"}, "")
	if r := c.post("/held/mta-a/Q0001/release", url.Values{"reason": {"x"}}); r.code != http.StatusBadRequest {
		t.Errorf("release of a released message = %d, want 400", r.code)
	}
	if r := c.post("/held/mta-a/nope/release", url.Values{"reason": {"x"}}); r.code != http.StatusNotFound {
		t.Errorf("release of an unknown message = %d, want 404", r.code)
	}
}

func TestIssue11BulkStatusAndSavedViews(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	c := f.signedIn("analyst")
	form := url.Values{"status": {"in_review"}, "id": {ins[0].ID, ins[2].ID}, "back": {"/incidents?status=new"}}
	r := c.post("/incidents/bulk", form)
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/incidents?ok=bulk&status=new" {
		t.Fatalf("bulk = %d %q", r.code, r.hdr.Get("Location"))
	}
	for i, want := range []store.Status{store.StatusInReview, store.StatusNew, store.StatusInReview} {
		if in, _ := f.st.Get(context.Background(), ins[i].ID); in.Status != want {
			t.Errorf("incident %d status %s, want %s", i, in.Status, want)
		}
	}
	list := c.get("/incidents?status=in_review").body
	if !strings.Contains(list, ins[0].ID) || strings.Contains(list, "/incidents/"+ins[1].ID+"\"") {
		t.Errorf("status filter wrong")
	}
	// Saved views are the user's own.
	r = c.post("/views", url.Values{"name": {"in review"}, "query": {"status=in_review&after=zzz&bogus=1"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("save view = %d %s", r.code, r.body)
	}
	list = html.UnescapeString(c.get("/incidents").body)
	if !strings.Contains(list, `href="/incidents?status=in_review">in review</a>`) {
		t.Errorf("saved view not listed")
	}
	if b := f.signedIn("viewer").get("/incidents").body; strings.Contains(b, "in review</a>") {
		t.Errorf("another user sees the view")
	}
	if r := c.post("/views", url.Values{"name": {"bad"}, "query": {"status=bogus"}}); r.code != http.StatusBadRequest {
		t.Errorf("view with a bad filter = %d", r.code)
	}
	id := regexp.MustCompile(`/views/(\d+)/delete`).FindStringSubmatch(list)
	if id == nil {
		t.Fatal("no delete form for the view")
	}
	if r := f.signedIn("viewer").post("/views/"+id[1]+"/delete", nil); r.code != http.StatusNotFound {
		t.Errorf("another user's view delete = %d, want 404", r.code)
	}
	if r := c.post("/views/"+id[1]+"/delete", nil); r.code != http.StatusSeeOther {
		t.Errorf("delete view = %d", r.code)
	}
}

func TestIssue11KeysetPaging(t *testing.T) {
	f := newFixture(t, config.Console{PageSize: 7})
	base := f.clock.now()
	var ins []store.Incident
	for i := range 30 {
		in := store.Incident{ID: "p" + string(rune('A'+i/26)) + string(rune('a'+i%26)), Time: base.Add(-time.Duration(i%10) * time.Second),
			Sender: "s@example.com", Action: "block", Policies: []store.Policy{{Name: "pol", Severity: "high"}},
			Recipients: []store.Recipient{{Address: "r@example.org"}}}
		ins = append(ins, in)
	}
	if _, err := f.st.Insert(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
	c := f.signedIn("viewer")
	seen := map[string]bool{}
	next := "/incidents?policy=pol"
	re := regexp.MustCompile(`href="/incidents/(p[A-Z][a-z])"`)
	nextRe := regexp.MustCompile(`href="([^"]+)" id="next"`)
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		b := c.get(next).body
		for _, m := range re.FindAllStringSubmatch(b, -1) {
			if seen[m[1]] {
				t.Fatalf("%s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		next = ""
		if m := nextRe.FindStringSubmatch(b); m != nil {
			next = html.UnescapeString(m[1])
			if !strings.Contains(next, "policy=pol") {
				t.Fatalf("next link %s loses the filter", next)
			}
		}
	}
	if len(seen) != 30 {
		t.Fatalf("saw %d incidents over the pages, want 30", len(seen))
	}
	if r := c.get("/incidents?after=not-a-cursor!"); r.code != http.StatusBadRequest {
		t.Errorf("bad cursor = %d, want 400", r.code)
	}
}

func TestIssue11ProxyUserHeader(t *testing.T) {
	f := newFixture(t, config.Console{TrustedProxies: []string{"10.0.0.0/8"}, ProxyUserHeader: "X-Remote-User"})
	f.seed()
	get := func(addr, user string) response {
		c := f.client()
		c.addr = addr
		req, _ := http.NewRequest("GET", origin+"/incidents", nil)
		req.Header.Set("X-Remote-User", user)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		return c.do(req)
	}
	if r := get("10.1.2.3:443", "analyst"); r.code != http.StatusOK || !strings.Contains(r.body, "analyst (analyst)") {
		t.Fatalf("trusted proxy = %d", r.code)
	}
	if r := get("192.0.2.1:443", "admin"); r.code != http.StatusSeeOther {
		t.Fatalf("header from an untrusted address = %d, want 303 to login", r.code)
	}
	if r := get("10.1.2.3:443", "nobody"); r.code != http.StatusSeeOther {
		t.Fatalf("unknown proxy user = %d, want 303 to login", r.code)
	}
	// The proxy user's actions carry a form token and the client address
	// the proxy names.
	c := f.client()
	c.addr = "10.1.2.3:443"
	req, _ := http.NewRequest("GET", origin+"/incidents/inc0001", nil)
	req.Header.Set("X-Remote-User", "analyst")
	c.do(req)
	req = newFormRequest("/incidents/inc0001/status", url.Values{"status": {"confirmed"}, "csrf": {c.csrf}})
	req.Header.Set("X-Remote-User", "analyst")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if r := c.do(req); r.code != http.StatusSeeOther {
		t.Fatalf("proxy user's POST = %d %s", r.code, r.body)
	}
	evs := events(t, f.st, store.KindStatus)
	if len(evs) != 1 || evs[0].Actor != "analyst" || evs[0].SourceAddr != "203.0.113.9" {
		t.Fatalf("events = %+v", evs)
	}
}

func TestIssue11UsersPage(t *testing.T) {
	f := newFixture(t, config.Console{})
	c := f.signedIn("admin")
	if r := c.post("/users", url.Values{"name": {"zoe"}, "role": {"analyst"}, "password": {"short"}}); r.code != http.StatusBadRequest {
		t.Fatalf("short password = %d", r.code)
	}
	if r := c.post("/users", url.Values{"name": {"zoe"}, "role": {"analyst"}, "password": {testPassword}}); r.code != http.StatusSeeOther {
		t.Fatalf("add = %d %s", r.code, r.body)
	}
	if r := c.post("/users", url.Values{"name": {"zoe"}, "role": {"analyst"}, "password": {testPassword}}); r.code != http.StatusBadRequest {
		t.Fatalf("add twice = %d", r.code)
	}
	z := f.signedIn("zoe")
	if r := c.post("/users/zoe/role", url.Values{"role": {"viewer"}}); r.code != http.StatusSeeOther {
		t.Fatalf("role = %d", r.code)
	}
	// The role change ended zoe's session.
	if r := z.get("/"); r.code != http.StatusSeeOther {
		t.Fatalf("zoe's old session = %d, want 303", r.code)
	}
	if r := c.post("/users/admin/delete", nil); r.code != http.StatusBadRequest {
		t.Fatalf("delete self = %d, want 400", r.code)
	}
	if r := c.post("/users/zoe/password", url.Values{"password": {"another long password"}}); r.code != http.StatusSeeOther {
		t.Fatalf("password = %d", r.code)
	}
	if r := c.post("/users/zoe/delete", nil); r.code != http.StatusSeeOther {
		t.Fatalf("delete = %d", r.code)
	}
	if b := c.get("/audit").body; !strings.Contains(b, "user add") || !strings.Contains(b, "user delete") || !strings.Contains(b, "user role") {
		t.Errorf("audit lacks user changes")
	}
	var hash string
	f.st.DB().QueryRow(`SELECT hash FROM console_users WHERE name = 'admin'`).Scan(&hash)
	if !strings.HasPrefix(hash, "$argon2id$v=19$") || strings.Contains(hash, testPassword) {
		t.Fatalf("stored hash %q", hash)
	}
}
