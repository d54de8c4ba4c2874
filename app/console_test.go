package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/console"
	"github.com/maildlp/maildlp/ingest"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/store"
)

// TestIssue11ServeRunsConsole starts the service with [console] listen
// set: the console serves beside the front ends on the same store, and a
// user added to the store signs in.
func TestIssue11ServeRunsConsole(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, "5s", keywordPolicy("alpha"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\n[console]\nlisten = \"" + addr + "\"\n")
	f.Close()
	st, err := ingest.OpenStore(context.Background(), config.Store{Path: filepath.Join(dir, "maildlp.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := console.NewUsers(st).Add(context.Background(), "ana", console.Analyst, "a long password", store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	a, err := New(Options{ConfigPath: path, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ta := &testApp{App: a, dir: dir, logs: &testutil.LogBuffer{}}
	ta.run(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	base := "http://" + addr
	var res *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err = c.Get(base + "/login")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /login: %v", err)
	}
	res.Body.Close()
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"name": {"ana"}, "password": {"a long password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "Dashboard") || !strings.Contains(string(b), "ana (analyst)") {
		t.Fatalf("after login: %d\n%s", res.StatusCode, b)
	}
}
