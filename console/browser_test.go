package console

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/store"
)

// browser starts headless Chromium for t. It skips the test when
// Chromium is not installed, unless MAILDLP_REQUIRE_BROWSER is set
// (make test sets it: scripts/deps.sh console installs Chromium).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("MAILDLP_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium is not installed and MAILDLP_REQUIRE_BROWSER is set: run scripts/deps.sh console")
		}
		t.Skip("chromium is not installed: run scripts/deps.sh console")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}

// artifacts is where screenshots go: $MAILDLP_ARTIFACTS/console, or a
// temporary directory.
func artifacts(t *testing.T) string {
	dir := t.TempDir()
	if d := os.Getenv("MAILDLP_ARTIFACTS"); d != "" {
		dir = filepath.Join(d, "console")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestIssue11Browser drives the console in headless Chromium: sign in,
// filter the list, open an incident, change its status, release its held
// message with a reason, see the node's result and the audit entries,
// sign out. A screenshot of each page is saved.
func TestIssue11Browser(t *testing.T) {
	ctx := browser(t)
	f := newFixture(t, config.Console{PageSize: 25})
	ins := f.seed()
	insertSynthetic(t, f.st, synthetic(400, f.clock.now(), DashboardDays, 1))
	ts := httptest.NewServer(f.srv.Handler())
	t.Cleanup(ts.Close)
	dir := artifacts(t)
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
		})
	}
	// waitPath waits until the browser shows path (after a redirect).
	waitPath := func(prefix string) chromedp.Action[chromedp.Void] {
		expr := `document.readyState === "complete" && (location.pathname + location.search).startsWith(` + jsString(prefix) + `)`
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// A click that submits a form navigates while we ask; the
			// question is asked again until the new page answers.
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				ok, err := chromedp.Evaluate[bool](expr)(ctx, tg)
				if err == nil && ok {
					return nil
				}
				select {
				case <-ctx.Done():
					loc, _ := chromedp.Location()(context.WithoutCancel(ctx), tg)
					return fmt.Errorf("waiting for %s at %s: %w", prefix, loc, ctx.Err())
				case <-tick.C:
				}
			}
		})
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	// Everything the pages write to the browser's console: a violation of
	// the Content-Security-Policy, a failed load or a script error would
	// be there.
	var mu sync.Mutex
	var logged []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			logged = append(logged, string(m.Type)+": "+m.String())
			mu.Unlock()
		}
	}()
	step := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	// A logged-out visit goes to the login page; signing in returns there.
	step("login page", chromedp.Navigate(ts.URL+"/incidents"), waitPath("/login"), shot("01-login"))
	step("sign in",
		chromedp.SendKeys(chromedp.CSS("#name"), "analyst"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#signin")),
		waitPath("/incidents"))
	step("dashboard", chromedp.Navigate(ts.URL+"/"), waitPath("/"), chromedp.WaitVisible(chromedp.CSS("svg.chart")), shot("02-dashboard"))

	// Filter the list by severity and status.
	step("filter",
		chromedp.Navigate(ts.URL+"/incidents"), waitPath("/incidents"),
		chromedp.SetValue(chromedp.CSS("#f-severity"), "critical"),
		chromedp.SetValue(chromedp.CSS("#f-status"), "new"),
		chromedp.Click(chromedp.CSS("#apply")),
		waitPath("/incidents?"))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "severity=critical") || !strings.Contains(loc, "status=new") {
		t.Fatalf("filtered list at %s", loc)
	}
	body := text("table.list tbody")
	if strings.Contains(body, "high") || strings.Contains(body, "medium") || !strings.Contains(body, "critical") {
		t.Fatalf("filtered list shows other severities:\n%s", body)
	}
	step("list screenshot", shot("03-incidents"))

	// Open the held incident from the list of its policy.
	id := ins[0].ID
	step("open incident",
		chromedp.Navigate(ts.URL+"/incidents?sender="+ins[0].Sender), waitPath("/incidents?"),
		chromedp.Click(chromedp.CSS(`a[href="/incidents/`+id+`"]`)),
		waitPath("/incidents/"+id), shot("04-incident"))
	if s := text("#held-state"); s != "held" {
		t.Fatalf("held state %q", s)
	}

	// Change its status.
	step("set status",
		chromedp.SetValue(chromedp.CSS("#new-status"), "in_review"),
		chromedp.Click(chromedp.CSS("#set-status")),
		waitPath("/incidents/"+id+"?ok=status"))
	if s := text("#status"); s != "in review" {
		t.Fatalf("status shown %q, want in review", s)
	}

	// Release the held message with a reason.
	step("release",
		chromedp.SendKeys(chromedp.CSS("#release-reason"), "sender confirmed the card is a test card"),
		chromedp.Click(chromedp.CSS("#release")),
		waitPath("/incidents/"+id+"?ok=release"))
	if s := text(".flash"); !strings.Contains(s, "Release requested") {
		t.Fatalf("flash %q", s)
	}
	// The node that holds the message executes the request (here the
	// store's request rows: the real Postfix release runs in the
	// integration suite) and records the result.
	reqs, err := f.st.ClaimRequests(context.Background(), "node-a", 10)
	if err != nil || len(reqs) != 1 || reqs[0].Kind != store.RequestRelease || reqs[0].Actor != "analyst" {
		t.Fatalf("claimed %+v, %v", reqs, err)
	}
	if err := f.st.FinishRequest(context.Background(), reqs[0].ID, true, "released from the hold queue", store.Actor{Name: "node-a"}); err != nil {
		t.Fatal(err)
	}
	h, _ := f.st.GetHeld(context.Background(), "mta-a", "Q0000")
	h.State = store.HeldReleased
	if err := f.st.PutHeld(context.Background(), h, "released", store.Actor{Name: "node-a"}, "request 1"); err != nil {
		t.Fatal(err)
	}
	step("after release", chromedp.Reload(), waitPath("/incidents/"+id))
	if s := text("#held-state"); s != "released" {
		t.Fatalf("held state after release %q", s)
	}
	step("incident screenshot", shot("05-incident-released"))
	step("quarantine", chromedp.Navigate(ts.URL+"/quarantine"), waitPath("/quarantine"), shot("06-quarantine"))
	if s := text("table.list tr.req-done"); !strings.Contains(s, "released from the hold queue") {
		t.Fatalf("quarantine page request row %q", s)
	}
	step("audit", chromedp.Navigate(ts.URL+"/audit"), waitPath("/audit"), shot("07-audit"))
	audit := text("table.list tbody")
	for _, want := range []string{"release requested", "release done", "sender confirmed the card is a test card", "status"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}

	// Sign out: the console is closed again.
	step("logout", chromedp.Click(chromedp.CSS("#logout")), waitPath("/login"))
	step("closed", chromedp.Navigate(ts.URL+"/audit"), waitPath("/login?next="))
	t.Logf("screenshots in %s", dir)
	mu.Lock()
	defer mu.Unlock()
	for _, l := range logged {
		if !strings.HasPrefix(l, "debug") && !strings.HasPrefix(l, "info") {
			t.Errorf("browser console: %s", l)
		}
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
