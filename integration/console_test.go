package integration

import (
	"context"
	"fmt"
	"github.com/maildlp/maildlp/internal/testutil"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestIssue11ConsoleReleasesHeldMail: a message held by a real Postfix
// (maildlp its milter, the store a SQLite file) is released from the
// review console in headless Chromium by an analyst with a reason. The
// node's quarantine worker executes the request, the message reaches the
// sink once, and the incident, quarantine and audit pages show the result
// and who asked for it.
func TestIssue11ConsoleReleasesHeldMail(t *testing.T) {
	needMaildlp(t)
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		if os.Getenv("MAILDLP_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium is not installed: run scripts/deps.sh console")
		}
		t.Skip("chromium is not installed: run scripts/deps.sh console")
	}
	// One node: Postfix with maildlp as its milter, the console on a
	// loopback port, the store a SQLite file.
	n := &qNode{name: "a", sink: NewSink(t)}
	consolePort := freePort(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "maildlp.db")
	store := fmt.Sprintf("path = %q\nnode = \"node-a\"\nmta_host = \"mx-a\"\nflush_interval = \"20ms\"", db)
	consoleConf := fmt.Sprintf("[console]\nlisten = \"127.0.0.1:%d\"\n", consolePort)
	c := DLPConfig{Milter: true, Policies: testPolicies, NotifyRelay: n.sink.Addr(), Store: store,
		Extra: "[quarantine]\nworker = false\n" + consoleConf}
	n.dlp = NewMaildlp(t, c)
	n.pf = NewPostfix(t, PostfixConfig{
		Relay:     n.sink.Addr(),
		Fragments: []string{milterMainCF(t)},
		Rewrite:   map[string]string{"10030": strconv.Itoa(n.dlp.MilterPort), "9030": strconv.Itoa(n.dlp.Metrics)},
	})
	c.Extra = fmt.Sprintf("[quarantine]\npostfix_config_dir = %q\npoll_interval = \"100ms\"\nsync_interval = \"1s\"\n", n.pf.ConfDir) + consoleConf
	n.dlp.write(c)
	n.dlp.Restart()

	// The analyst, created with the CLI.
	add := exec.Command(maildlpBin, "user", "add", "ana", "--role", "analyst", "--db", db)
	add.Stdin = strings.NewReader("a long password\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("maildlp user add: %v\n%s", err, out)
	}

	m, id := n.holdOne(t, "console-release")
	base := "http://127.0.0.1:" + strconv.Itoa(consolePort)

	// Wait until the store knows the held message, as the console shows it.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	login := func() {
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"name": {"ana"}, "password": {"a long password"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	login()
	var incident string
	if !testutil.Poll(30*time.Second, func() bool {
		res, err := hc.Get(base + "/quarantine")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			k, err := res.Body.Read(buf)
			b.WriteString(string(buf[:k]))
			if err != nil {
				break
			}
		}
		page := b.String()
		i := strings.Index(page, "mx-a/"+id)
		if i < 0 {
			return false
		}
		rest := page[i:]
		j := strings.Index(rest, `href="/incidents/`)
		if j < 0 {
			return false
		}
		rest = rest[j+len(`href="/incidents/`):]
		incident = rest[:strings.IndexByte(rest, '"')]
		return incident != ""
	}) {
		t.Fatalf("the console never showed %s held with its incident\n%s", id, n.dlp.Log())
	}

	// The browser.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(actx)
	defer cancel2()
	ctx, cancel3 := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel3()
	art := t.TempDir()
	if d := os.Getenv("MAILDLP_ARTIFACTS"); d != "" {
		art = filepath.Join(d, "console-integration")
		os.MkdirAll(art, 0o755)
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(art, name+".png"), png, 0o644)
		})
	}
	waitPath := func(prefix string) chromedp.Action[chromedp.Void] {
		expr := `document.readyState === "complete" && (location.pathname + location.search).startsWith('` + prefix + `')`
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for {
				if ok, err := chromedp.Evaluate[bool](expr)(ctx, tg); err == nil && ok {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("waiting for %s: %w", prefix, ctx.Err())
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	}
	step := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	step("sign in", chromedp.Navigate(base+"/quarantine"), waitPath("/login"),
		chromedp.SendKeys(chromedp.CSS("#name"), "ana"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long password"),
		chromedp.Click(chromedp.CSS("#signin")), waitPath("/quarantine"), shot("01-quarantine-held"))
	step("open incident", chromedp.Click(chromedp.CSS(`a[href="/incidents/`+incident+`"]`)), waitPath("/incidents/"+incident))
	if s := text("#held-state"); s != "held" {
		t.Fatalf("held state %q", s)
	}
	start := time.Now()
	step("release",
		chromedp.SendKeys(chromedp.CSS("#release-reason"), "false positive: order number"),
		chromedp.Click(chromedp.CSS("#release")),
		waitPath("/incidents/"+incident+"?ok=release"))
	n.sink.Wait(1, 10*time.Second, withID(m.ID))
	t.Logf("figure: release clicked in the console -> delivered at the sink in %v", time.Since(start).Round(time.Millisecond))
	n.pf.WaitQueue(20*time.Second, "queue empty", func(q []QueueEntry) bool { return len(q) == 0 })
	if got := n.sink.Quiet(2*time.Second, withID(m.ID)); len(got) != 1 {
		t.Fatalf("released message delivered %d times, want 1", len(got))
	}
	// The page shows the node's result once it is recorded.
	deadline := time.Now().Add(15 * time.Second)
	for {
		step("reload", chromedp.Reload(), waitPath("/incidents/"+incident))
		if text("#held-state") == "released" && strings.Contains(text("table.list tr.req-done"), "release") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the incident page never showed the release done")
		}
		time.Sleep(200 * time.Millisecond)
	}
	step("incident screenshot", shot("02-incident-released"))
	step("audit", chromedp.Navigate(base+"/audit"), waitPath("/audit"), shot("03-audit"))
	audit := text("table.list tbody")
	for _, want := range []string{"release requested", "release done", "false positive: order number", "ana", "127.0.0.1"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit page lacks %q:\n%s", want, audit)
		}
	}
	step("logout", chromedp.Click(chromedp.CSS("#logout")), waitPath("/login"))
}
