package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/policy/detect"
)

// TestLoadErrors loads every fixture in testdata/errors and compares the
// joined error with the "# error: " lines at the top of the fixture.
func TestLoadErrors(t *testing.T) {
	// A dataset key file must be private; git does not keep file modes,
	// so the fixture's key gets its mode here.
	if err := os.Chmod("testdata/datasets/cust.key", 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/errors/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if s, ok := strings.CutPrefix(line, "# error: "); ok {
					want = append(want, s)
				}
			}
			_, err = Load(f, detect.IsBuiltin)
			if err == nil {
				t.Fatalf("Load(%s) = nil error, want:\n%s", f, strings.Join(want, "\n"))
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Load(%s) errors:\n%s\nwant:\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("Load(%s) error is not a *config.Error: %T", f, err)
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load("testdata/ok/minimal.toml", detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"unscannable", c.Unscannable, UnscannableQuarantine},
		{"max_message_bytes", c.Limits.MaxMessageBytes, ByteSize(50 << 20)},
		{"max_parts", c.Limits.MaxParts, 1000},
		{"max_depth", c.Limits.MaxDepth, 10},
		{"max_archive_members", c.Limits.MaxArchiveMembers, 1000},
		{"max_decompressed_bytes", c.Limits.MaxDecompressedBytes, ByteSize(200 << 20)},
		{"max_expansion_ratio", c.Limits.MaxExpansionRatio, int64(100)},
		{"max_text_bytes", c.Limits.MaxTextBytes, ByteSize(20 << 20)},
		{"scan_timeout", c.Limits.ScanTimeout.D(), 20 * time.Second},
		{"max_added_headers", c.Limits.MaxAddedHeaders, 10},
		{"pass_header.enabled", *c.PassHeader.Enabled, true},
		{"pass_header.name", c.PassHeader.Name, "X-Filter-Loop"},
		{"pass_header.value", c.PassHeader.Value, "Reflected"},
		{"failure.on_timeout", c.Failure.OnTimeout, OutcomeTempFail},
		{"failure.on_overload", c.Failure.OnOverload, OutcomeTempFail},
		{"failure.on_error", c.Failure.OnError, OutcomeTempFail},
		{"log.format", c.Log.Format, LogJSON},
		{"log.level", c.Log.Level, LogInfo},
		{"keyword_window", c.Detection.KeywordWindow, 300},
		{"policy severity", c.Policies[0].Severity, SeverityMedium},
		{"policy mode", c.Policies[0].Mode, ModePrevent},
		{"min_confidence", c.Policies[0].Rule.MinConfidence, ConfidenceMedium},
		{"min_count", c.Policies[0].Rule.MinCount, 1},
		{"block code", c.Policies[0].Block.Code, 550},
		{"block enhanced", c.Policies[0].Block.Enhanced, "5.7.1"},
		{"block text", c.Policies[0].Block.Text, DefaultBlockText},
		{"policy pos", c.Policies[0].Pos, "testdata/ok/minimal.toml:1"},
		{"rule pos", c.Policies[0].Rule.Pos, "testdata/ok/minimal.toml:3"},
		{"dictionary words", c.Detectors[0].Words, []string{"Bluebird", "Project Falcon"}},
		{"path", c.Path, "testdata/ok/minimal.toml"},
		{"unscannable_exempt_types", c.UnscannableExemptTypes, []string{"image/*", "audio/*", "video/*", "font/*"}},
	}
	for _, ck := range checks {
		if !equal(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func equal(a, b any) bool {
	as, ok1 := a.([]string)
	bs, ok2 := b.([]string)
	if ok1 && ok2 {
		return strings.Join(as, "\x00") == strings.Join(bs, "\x00")
	}
	return a == b
}

func TestDefault(t *testing.T) {
	c, err := Default(detect.IsBuiltin)
	if err != nil {
		t.Fatalf("Default() = %v", err)
	}
	if !c.Milter.Enabled || !c.Reinject.Enabled {
		t.Errorf("Default(): milter enabled %v, reinject enabled %v, want both", c.Milter.Enabled, c.Reinject.Enabled)
	}
	if got := c.Milter.Listen; len(got) != 1 || got[0].String() != "inet:10030@127.0.0.1" {
		t.Errorf("Default() milter listen = %v", got)
	}
	if c.Reinject.Listen.String() != "127.0.0.1:10025" || c.Reinject.ReflectTo.String() != "127.0.0.1:10026" {
		t.Errorf("Default() reinject = %s -> %s", c.Reinject.Listen, c.Reinject.ReflectTo)
	}
	if c.Metrics.Listen.String() != "127.0.0.1:9030" {
		t.Errorf("Default() metrics = %q", c.Metrics.Listen)
	}
	if len(c.Policies) < 4 {
		t.Errorf("Default() has %d policies, want the PCI, PII, banking and secrets policies", len(c.Policies))
	}
}

// TestDefaultPolicyIsContrib keeps the embedded default policy and the
// commented copy in contrib/policies byte-identical.
func TestDefaultPolicyIsContrib(t *testing.T) {
	contrib, err := os.ReadFile("../contrib/policies/default.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(contrib, DefaultPolicy()) {
		t.Error("config/default-policy.toml and contrib/policies/default.toml differ; copy one over the other")
	}
}

// TestContribPolicies loads every policy file in contrib/policies.
func TestContribPolicies(t *testing.T) {
	files, _ := filepath.Glob("../contrib/policies/*.toml")
	if len(files) == 0 {
		t.Fatal("no contrib policies")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			abs, _ := filepath.Abs(f)
			main := []byte("policy_files = [\"" + abs + "\"]\n")
			c, err := LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"), main, detect.IsBuiltin)
			if err != nil {
				t.Fatalf("load %s:\n%v", f, err)
			}
			if len(c.Policies) == 0 {
				t.Errorf("%s has no policies", f)
			}
		})
	}
}

func TestLineIndex(t *testing.T) {
	src := `a = 1
[[p]]
name = "x"   # comment with = sign
s = """
multi
"""
[p.r]
all = [
  { d = "x" },
  { any = [ { e = 'y' } ] },
]
[[p]]
name = "y"
"q.k" = 2
`
	idx := indexLines(src)
	tests := []struct {
		p    keyPath
		want int
	}{
		{keyPath{}.with("a"), 1},
		{keyPath{}.with("p").index(0).with("name"), 3},
		{keyPath{}.with("p").index(0).with("s"), 4},
		{keyPath{}.with("p").index(0).with("r"), 7},
		{keyPath{}.with("p").index(0).with("r", "all").index(1), 10},
		{keyPath{}.with("p").index(0).with("r", "all").index(1).with("any").index(0).with("e"), 10},
		{keyPath{}.with("p").index(0).with("r", "all").index(0).with("d"), 9},
		{keyPath{}.with("p").index(1).with("name"), 13},
		{keyPath{}.with("p").index(1).with("q.k"), 14},
		{keyPath{}.with("p").index(1).with("zzz"), 12},
	}
	for _, tt := range tests {
		if got := idx.line(tt.p); got != tt.want {
			t.Errorf("line(%s) = %d, want %d", tt.p, got, tt.want)
		}
	}
}

// FuzzLoad feeds arbitrary documents to the loader: it must return a
// config or an error, never panic, and every error names the file.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("trial_mode = true\n[[policy]]\nname = \"x\"\nrule = { detector = \"credit_card\" }\n"))
	f.Add([]byte("[[policy]]\nname = \"x\"\n[policy.rule]\nall = [{ any = [{ sender = [\"*@a.b\"] }] }]\n[policy.block]\ncode = 551\n"))
	f.Add([]byte("[limits]\nmax_parts = \"x\"\n[[detector]]\nname = \"d\"\ntype = \"regex\"\npattern = \"(\"\n"))
	f.Add([]byte("a = \"\"\"\n[[x]]\n\"\"\"\n[[x]]\n[x.y]\nz = [1,\n2]\n"))
	f.Add(DefaultPolicy())
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadBytes("fuzz.toml", data, detect.IsBuiltin)
		if err == nil {
			if c == nil {
				t.Fatal("nil config and nil error")
			}
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "fuzz.toml") && !strings.Contains(line, ".toml") {
				t.Fatalf("error line without a file: %q", line)
			}
		}
	})
}

func TestLoadEmpty(t *testing.T) {
	c, err := LoadBytes("empty.toml", nil, detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Policies) != 0 || c.Milter.Enabled || c.Reinject.Enabled || c.Unscannable != "quarantine" {
		t.Errorf("empty config = %+v", c)
	}
}

func TestPolicyFileGlob(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "policies"), 0o755)
	for i, name := range []string{"b.toml", "a.toml"} {
		os.WriteFile(filepath.Join(dir, "policies", name), []byte(fmt.Sprintf("[[policy]]\nname = \"P%d\"\nrule = { detector = \"iban\" }\n", i)), 0o644)
	}
	main := filepath.Join(dir, "maildlp.toml")
	os.WriteFile(main, []byte("policy_files = [\"policies/*.toml\", \"none/*.toml\"]\n"), 0o644)
	_, err := Load(main, detect.IsBuiltin)
	want := main + ":1: policy_files[1]: no policy file matches \"none/*.toml\""
	if err == nil || err.Error() != want {
		t.Fatalf("Load = %v, want %s", err, want)
	}
	os.WriteFile(main, []byte("policy_files = [\"policies/*.toml\"]\n"), 0o644)
	c, err := Load(main, detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Policies) != 2 || c.Policies[0].Name != "P1" || c.Policies[1].Name != "P0" {
		t.Errorf("policies = %+v, want a.toml (P1) then b.toml (P0)", c.Policies)
	}
}

// FuzzIndexLines: the line indexer must terminate and not panic on any
// input, valid TOML or not.
func FuzzIndexLines(f *testing.F) {
	f.Add("a = 1\n[[p]]\nb = { c = [1, {d = 'x'}] }\n")
	f.Add("s = \"\"\"\nx\n\"\"\"\n[t.\"q k\"]\n")
	f.Add("[[a]]\n[a.b]\n[[a]]\nx = [\n# c\n1,\n]\n")
	f.Fuzz(func(t *testing.T, src string) {
		idx := indexLines(src)
		lines := strings.Count(src, "\n") + 1
		for k, l := range idx {
			if l < 1 || l > lines {
				t.Fatalf("key %q at line %d of %d", k, l, lines)
			}
		}
	})
}
