package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDocsDefaults checks every entry of the defaults table against the
// row of its key in the documentation: docs/config.md for the main
// sections, docs/milter.md and docs/reinject.md for the front ends. A
// default changed in one place and not the other fails here.
func TestDocsDefaults(t *testing.T) {
	pages := map[string]string{}
	page := func(name string) string {
		if p, ok := pages[name]; ok {
			return p
		}
		b, err := os.ReadFile("../docs/" + name)
		if err != nil {
			t.Fatal(err)
		}
		pages[name] = string(b)
		return string(b)
	}
	for _, d := range defaults {
		file, heading, key := "config.md", "## Top-level keys", d.key
		if section, rest, ok := strings.Cut(d.key, "."); ok {
			key = rest
			switch section {
			case "milter":
				file, heading = "milter.md", "## Settings (`[milter]`"
			case "reinject":
				file, heading = "reinject.md", "## Settings (`[reinject]`)"
			default:
				heading = "## `[" + section + "]`"
			}
		}
		text := page(file)
		i := strings.Index(text, "\n"+heading)
		if i < 0 {
			t.Errorf("%s: no heading %q for %s", file, heading, d.key)
			continue
		}
		text = text[i+1:]
		if j := strings.Index(text[1:], "\n## "); j >= 0 {
			text = text[:j+1]
		}
		want := renderDefault(reflect.ValueOf(d.value))
		found := false
		for _, line := range strings.Split(text, "\n") {
			cells := strings.Split(line, "|")
			if len(cells) < 4 || !strings.Contains(cells[1], "`"+key+"`") {
				continue
			}
			found = true
			if got := normaliseCell(cells[2]); !strings.Contains(got, normaliseCell(want)) {
				t.Errorf("%s: %s default is %q, the config's is %s", file, d.key, strings.TrimSpace(cells[2]), want)
			}
			break
		}
		if !found {
			t.Errorf("%s: no table row for %s (default %s)", file, d.key, want)
		}
	}
}

func normaliseCell(s string) string {
	return strings.NewReplacer("`", "", `"`, "", " ", "").Replace(s)
}

// renderDefault writes a default as the docs do: sizes in binary units,
// durations without zero components.
func renderDefault(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case ByteSize:
		for _, u := range []struct {
			s string
			n ByteSize
		}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
			if x >= u.n && x%u.n == 0 {
				return fmt.Sprintf("%d%s", x/u.n, u.s)
			}
		}
		return fmt.Sprint(int64(x))
	case Duration:
		s := time.Duration(x).String()
		for _, z := range []string{"0s", "0m"} {
			if strings.HasSuffix(s, z) && len(s) > 2 {
				s = strings.TrimSuffix(s, z)
			}
		}
		return s
	case FileMode:
		return fmt.Sprintf("%04o", uint32(x))
	case fmt.Stringer:
		return x.String()
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprintf("%q", renderDefault(v.Index(i)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}
