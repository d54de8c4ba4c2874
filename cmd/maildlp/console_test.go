package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIssue11ConsoleCommandErrors(t *testing.T) {
	var errb bytes.Buffer
	if code := consoleMain([]string{"--help"}, &errb); code != 0 || !strings.Contains(errb.String(), "maildlp user add") {
		t.Fatalf("--help = %d %q", code, errb.String())
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "maildlp.toml")
	os.WriteFile(conf, []byte("[console]\nproxy_user_header = \"X-User\"\n"), 0o644)
	errb.Reset()
	if code := consoleMain([]string{"--config", conf}, &errb); code != 1 || !strings.Contains(errb.String(), "needs trusted_proxies") {
		t.Fatalf("bad config = %d %q", code, errb.String())
	}
	errb.Reset()
	db := filepath.Join(dir, "m.db")
	if code := consoleMain([]string{"--db", db, "--listen", "nope"}, &errb); code != 1 || !strings.Contains(errb.String(), "nope") {
		t.Fatalf("bad listen = %d %q", code, errb.String())
	}
}
