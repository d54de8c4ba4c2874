package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIssue7CheckConfigWarns: check-config accepts a config that lets a
// sender switch scanning off per message, but says so.
func TestIssue7CheckConfigWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maildlp.toml")
	doc := "unscannable = \"pass\"\n[failure]\non_timeout = \"accept\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, checkConfig, "--config", path)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("check-config = %d\n%s%s\nwant 0 and ok", code, out, stderr)
	}
	for _, want := range []string{"warning: failure.on_timeout = \"accept\"", "warning: unscannable = \"pass\""} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check-config stderr lacks %q:\n%s", want, stderr)
		}
	}
}
