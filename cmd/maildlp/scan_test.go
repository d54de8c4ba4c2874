package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

func run(t *testing.T, main func(args []string, stdout, stderr *bytes.Buffer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func scan(args []string, stdout, stderr *bytes.Buffer) int {
	return scanMain(args, strings.NewReader(""), stdout, stderr)
}

func checkConfig(args []string, stdout, stderr *bytes.Buffer) int {
	return checkConfigMain(args, stdout, stderr)
}

func ex(name string) string { return filepath.Join(examplesDir, name) }

func TestScanExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("trial_mode = \"yes\"\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want int
		err  string // substring of stderr
	}{
		{"clean passes", []string{ex("clean.eml")}, 0, ""},
		{"test card passes", []string{ex("test-card.eml")}, 0, ""},
		{"block", []string{ex("secrets.eml")}, 1, ""},
		{"modify", []string{ex("two-cards.eml")}, 1, ""},
		{"one of many", []string{ex("clean.eml"), ex("secrets.eml")}, 1, ""},
		{"no argument", nil, 2, "no message given"},
		{"missing file", []string{"nope.eml"}, 2, "no such file"},
		{"unknown flag", []string{"--frobnicate", ex("clean.eml")}, 2, "flag provided but not defined"},
		{"help", []string{"--help"}, 0, "usage: maildlp scan"},
		{"bad config", []string{"--config", bad, ex("clean.eml")}, 2, bad + ":1: trial_mode: want true or false"},
		{"trial mode passes", []string{"--config", ex("trial-mode.toml"), ex("secrets.eml")}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, scan, tt.args...)
			if code != tt.want {
				t.Errorf("scan %v = %d, want %d (stderr %s)", tt.args, code, tt.want, stderr)
			}
			if !strings.Contains(stderr, tt.err) {
				t.Errorf("scan %v stderr = %q, want it to contain %q", tt.args, stderr, tt.err)
			}
		})
	}
}

// TestExamplesScan checks the verdict of each example message under the
// embedded default policy.
func TestExamplesScan(t *testing.T) {
	for _, e := range examples {
		t.Run(e.file, func(t *testing.T) {
			_, out, stderr := run(t, scan, "--json", ex(e.file))
			var r struct {
				Verdict struct {
					Action   string
					Policies []struct{ Name, Mode, Action string }
				}
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %s %s", err, out, stderr)
			}
			if r.Verdict.Action != e.action {
				t.Errorf("action = %s, want %s\n%s", r.Verdict.Action, e.action, out)
			}
			if e.policy != "" && !slices.ContainsFunc(r.Verdict.Policies, func(p struct{ Name, Mode, Action string }) bool { return p.Name == e.policy }) {
				t.Errorf("policies = %v, want %q among them", r.Verdict.Policies, e.policy)
			}
		})
	}
}

func keys(m map[string]any) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// TestScanJSONShape pins the stable shape of scan --json.
func TestScanJSONShape(t *testing.T) {
	code, out, _ := run(t, scan, "--json", ex("cards-in-xlsx.eml"), ex("encrypted-zip.eml"), ex("clean.eml"))
	if code != 1 {
		t.Errorf("exit = %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want one JSON object per message:\n%s", len(lines), out)
	}
	want := map[string][]string{
		"top":         {"detections", "file", "unscannable", "verdict"},
		"verdict":     {"action", "incident_id", "policies"},
		"policy":      {"action", "mode", "name", "severity"},
		"detection":   {"confidence", "count", "evidence", "locations", "test_value", "type"},
		"unscannable": {"location", "reason"},
	}
	has := func(what string, m map[string]any) {
		t.Helper()
		for _, k := range want[what] {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q: has %v", what, k, keys(m))
			}
		}
	}
	var seenDetection, seenUnscannable bool
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		has("top", m)
		if got := keys(m); !slices.Equal(got, want["top"]) {
			t.Errorf("top-level keys = %v, want exactly %v", got, want["top"])
		}
		v := m["verdict"].(map[string]any)
		has("verdict", v)
		if _, ok := v["policies"].([]any); !ok {
			t.Errorf("line %d: policies is %T, want an array (never null)", i, v["policies"])
		}
		for _, p := range v["policies"].([]any) {
			has("policy", p.(map[string]any))
		}
		for _, d := range m["detections"].([]any) {
			has("detection", d.(map[string]any))
			seenDetection = true
		}
		for _, u := range m["unscannable"].([]any) {
			has("unscannable", u.(map[string]any))
			seenUnscannable = true
		}
	}
	if !seenDetection || !seenUnscannable {
		t.Error("the sample had no detection or no unscannable item to check")
	}
	var first struct {
		File    string `json:"file"`
		Verdict struct {
			Action     string `json:"action"`
			IncidentID string `json:"incident_id"`
			Policies   []struct {
				Name, Severity, Mode, Action string
			} `json:"policies"`
		} `json:"verdict"`
		Detections []struct {
			Type       string   `json:"type"`
			Count      int      `json:"count"`
			Confidence string   `json:"confidence"`
			TestValue  bool     `json:"test_value"`
			Evidence   []string `json:"evidence"`
			Locations  []string `json:"locations"`
		} `json:"detections"`
	}
	json.Unmarshal([]byte(lines[0]), &first)
	if first.File != ex("cards-in-xlsx.eml") || first.Verdict.Action != "block" || len(first.Verdict.IncidentID) != 26 {
		t.Errorf("first result = %+v", first)
	}
	if len(first.Detections) != 1 || first.Detections[0].Type != "credit_card" || first.Detections[0].Count != 6 ||
		!slices.Equal(first.Detections[0].Locations, []string{`attachment "q3.xlsx" > sheet "Payroll"`}) {
		t.Errorf("detections = %+v", first.Detections)
	}
}

var incident = regexp.MustCompile(`[0-9A-HJKMNP-TV-Z]{26}`)

// TestScanDirectoryOrder scans the examples directory with one and with
// several workers: the output is the same, in path order.
func TestScanDirectoryOrder(t *testing.T) {
	_, one, _ := run(t, scan, "--jobs", "1", examplesDir)
	_, many, _ := run(t, scan, examplesDir, "--jobs", "8") // flags may follow the arguments
	one, many = incident.ReplaceAllString(one, "ID"), incident.ReplaceAllString(many, "ID")
	if one != many {
		t.Errorf("output depends on the number of workers:\n%s\n---\n%s", one, many)
	}
	var files []string
	for _, line := range strings.Split(one, "\n") {
		if f, _, ok := strings.Cut(line, ".eml:"); ok && !strings.HasPrefix(line, " ") {
			files = append(files, f+".eml")
		}
	}
	if len(files) != len(examples) || !sort.StringsAreSorted(files) {
		t.Errorf("files scanned = %v, want the %d examples in order", files, len(examples))
	}
}

func TestScanMaildirAndStdin(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
	}
	data, _ := os.ReadFile(ex("secrets.eml"))
	os.WriteFile(filepath.Join(dir, "new", "1700000000.M1P1.host"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "tmp", "1700000001.M1P1.host"), data, 0o644) // being delivered: skipped
	code, out, _ := run(t, scan, dir)
	if code != 1 || strings.Count(out, ": block (incident") != 1 {
		t.Errorf("maildir scan = %d\n%s", code, out)
	}
	var o, e bytes.Buffer
	code = scanMain([]string{"-"}, bytes.NewReader(data), &o, &e)
	if code != 1 || !strings.HasPrefix(o.String(), "-: block") {
		t.Errorf("stdin scan = %d %q %q", code, o.String(), e.String())
	}
}

// TestScanNoRawValues scans every example in every output mode and looks
// for the raw values the examples contain.
func TestScanNoRawValues(t *testing.T) {
	raws := append([]string{}, exampleCards(6)...)
	for _, c := range exampleCards(6) {
		raws = append(raws, groups(c))
	}
	raws = append(raws, iban("DE", "500105175407324931"), "536-22-8741", "536228741",
		"AKIAQ3X7ZK2M4N5P6RWT", "kT9vQ2mX7pL4sW8nR1cZ6yB3fH5jD0gA2eU7iO9w", "MC4CAQAwBQYDK2Vw")
	for _, args := range [][]string{
		{examplesDir},
		{"--json", examplesDir},
		{"--explain", examplesDir},
		{"--json", "--explain", examplesDir},
	} {
		_, out, stderr := run(t, scan, args...)
		for _, r := range raws {
			if strings.Contains(out, r) || strings.Contains(stderr, r) {
				t.Errorf("scan %v leaked %s", args, r)
			}
		}
	}
}

func TestScanExplain(t *testing.T) {
	_, out, _ := run(t, scan, "--explain", ex("two-cards.eml"))
	for _, want := range []string{
		`explain "PCI: bulk card numbers": no match`,
		"- detector credit_card (confidence >= medium): 2 distinct values (want >= 5)",
		`explain "PCI: card numbers": MATCH`,
		"+ detector credit_card (confidence >= medium): 2 distinct values (want 1 to 4)",
		`explain "Secrets: credentials and private keys": no match`,
		`why credit_card ****1546 in body: high (alone medium; high: keyword "card" 1 characters away)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	tests := []struct {
		args []string
		want int
		out  string
	}{
		{[]string{"--default"}, 0, "embedded default config: ok (7 policies, 0 custom detectors)"},
		{[]string{"--config", ex("trial-mode.toml")}, 0, "trial-mode.toml: ok (7 policies"},
		{[]string{"--config", "../../config/testdata/errors/bad_values.toml"}, 2,
			"../../config/testdata/errors/bad_values.toml:10: unscannable: unknown outcome \"drop\""},
		{[]string{"--config", "nope.toml"}, 2, "nope.toml: no such file"},
		{[]string{"--help"}, 0, "usage: maildlp check-config"},
		{[]string{"extra"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		code, out, stderr := run(t, checkConfig, tt.args...)
		if code != tt.want || !strings.Contains(out+stderr, tt.out) {
			t.Errorf("check-config %v = %d\n%s%s\nwant %d and %q", tt.args, code, out, stderr, tt.want, tt.out)
		}
	}
	// every error at once
	_, _, stderr := run(t, checkConfig, "--config", "../../config/testdata/errors/bad_values.toml")
	if n := strings.Count(stderr, "bad_values.toml:"); n != 9 {
		t.Errorf("check-config reported %d errors, want all 9:\n%s", n, stderr)
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := versionMain(nil, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "maildlp ") {
		t.Errorf("version = %d %q", code, out.String())
	}
	if code := versionMain([]string{"x"}, &out, &errb); code != 2 {
		t.Errorf("version x = %d, want 2", code)
	}
}

// TestDocsScanExample runs the example in docs/scan.md and compares the
// output (incident ids aside), so that the page cannot rot.
func TestDocsScanExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/scan.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```console\n$ maildlp scan contrib/examples/two-cards.eml\n")
	if !ok {
		t.Fatal("docs/scan.md lacks the two-cards example")
	}
	want, _, _ := strings.Cut(block, "```")
	_, got, _ := run(t, scan, ex("two-cards.eml"))
	got = strings.ReplaceAll(got, examplesDir+"/", "contrib/examples/")
	got, want = incident.ReplaceAllString(got, "ID"), incident.ReplaceAllString(want, "ID")
	if got != want {
		t.Errorf("docs/scan.md example output:\n%s\nscan prints:\n%s", want, got)
	}
}
