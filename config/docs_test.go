package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/detect"
)

// TestDocsPolicySnippets loads every TOML snippet of docs/policy.md, so
// that the documented keys stay the real ones. Whole policies load as
// they are; [policy.x] tables get a policy around them; lines of inline
// conditions are each tried as a rule.
func TestDocsPolicySnippets(t *testing.T) {
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "customers.txt"), []byte("Globex\n"), 0o644)
	const head = "internal_domains = [\"example.com\"]\n[[detector]]\nname = \"sample_data_marker\"\ntype = \"keywords\"\nwords = [\"SAMPLE\"]\n"
	const wrap = "[[policy]]\nname = \"doc\"\nrule = { detector = \"iban\" }\n"
	blocks := strings.Split(string(doc), "```toml\n")[1:]
	if len(blocks) < 8 {
		t.Fatalf("found %d TOML snippets in docs/policy.md", len(blocks))
	}
	n := 0
	for i, b := range blocks {
		b, _, _ = strings.Cut(b, "```")
		b = strings.ReplaceAll(b, `body = """..."""`, `body = "{evidence}"`)
		var docs []string
		switch trimmed := strings.TrimSpace(b); {
		case strings.HasPrefix(trimmed, "[[policy]]") || strings.HasPrefix(trimmed, "[[detector]]"):
			docs = []string{head + b}
		case strings.HasPrefix(trimmed, "[policy.rule]"):
			docs = []string{head + "[[policy]]\nname = \"doc\"\n" + b}
		case strings.HasPrefix(trimmed, "[policy."):
			docs = []string{head + wrap + b}
		case strings.HasPrefix(trimmed, "{"):
			for _, line := range strings.Split(trimmed, "\n") {
				cond, _, _ := strings.Cut(line, "#")
				if cond = strings.TrimSpace(cond); cond != "" {
					docs = append(docs, head+"[[policy]]\nname = \"doc\"\nrule = "+cond+"\n")
				}
			}
		default:
			t.Errorf("snippet %d not recognised:\n%s", i, b)
		}
		for _, d := range docs {
			n++
			if _, err := LoadBytes(filepath.Join(dir, "maildlp.toml"), []byte(d), detect.IsBuiltin); err != nil {
				t.Errorf("docs/policy.md snippet %d does not load:\n%s\n%v", i, d, err)
			}
		}
	}
	t.Logf("%d documents loaded", n)
}
