package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestIssue11UserCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "maildlp.db")
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := userMain(append(args, "--db", db), strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errs := run("first admin pw\n", "add", "root"); code != 0 || !strings.Contains(out, "role admin") {
		t.Fatalf("add = %d %q %q", code, out, errs)
	}
	if code, _, errs := run("another pw 123\n", "add", "root"); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("add twice = %d %q", code, errs)
	}
	if code, _, errs := run("short\n", "add", "bob", "--role", "viewer"); code != 1 || !strings.Contains(errs, "too short") {
		t.Fatalf("short password = %d %q", code, errs)
	}
	if code, _, _ := run("a fine password\n", "add", "bob", "--role", "viewer"); code != 0 {
		t.Fatal("add bob")
	}
	if code, _, errs := run("", "add", "carol", "--role", "boss"); code != 1 || !strings.Contains(errs, "unknown role") {
		t.Fatalf("bad role = %d %q", code, errs)
	}
	code, out, _ := run("", "list")
	if code != 0 || !strings.Contains(out, "root") || !strings.Contains(out, "bob") || !strings.Contains(out, "viewer") {
		t.Fatalf("list = %d %q", code, out)
	}
	if strings.Contains(out, "argon2") || strings.Contains(out, "password") {
		t.Fatalf("list shows hashes: %q", out)
	}
	if code, _, _ := run("a new password\n", "passwd", "bob"); code != 0 {
		t.Fatal("passwd")
	}
	if code, _, _ := run("", "role", "bob", "--role", "analyst"); code != 0 {
		t.Fatal("role")
	}
	if code, _, _ := run("", "delete", "bob"); code != 0 {
		t.Fatal("delete")
	}
	if code, _, errs := run("", "delete", "bob"); code != 1 || !strings.Contains(errs, "not found") {
		t.Fatalf("delete twice = %d %q", code, errs)
	}
	if code, _, _ := run("", "frobnicate", "x"); code != 2 {
		t.Fatalf("unknown command = %d", code)
	}
}
