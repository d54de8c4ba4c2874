package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestIssue10StoreKeysDocumented checks that every [store] key has a row
// in docs/config.md.
func TestIssue10StoreKeysDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "## `[store]`")
	if !ok {
		t.Fatal("docs/config.md has no [store] section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	typ := reflect.TypeFor[Store]()
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("toml")
		if !strings.Contains(sec, "| `"+key+"` |") {
			t.Errorf("store.%s is not documented in docs/config.md", key)
		}
	}
}

func TestIssue10StoreConfig(t *testing.T) {
	c, err := LoadBytes("maildlp.toml", []byte(""))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Store
	if s.Driver != "sqlite" || s.Path != DefaultStorePath || s.QueueDir != DefaultStoreQueueDir ||
		s.BatchSize != 500 || s.MaxQueueBytes != 512<<20 || s.Node == "" || s.MTAHost == "" || !s.Enabled() {
		t.Errorf("defaults = %+v", s)
	}
	for _, tc := range []struct{ conf, want string }{
		{"[store]\ndriver = \"mysql\"", `store.driver: unknown driver "mysql"`},
		{"[store]\ndriver = \"postgres\"", "store.dsn: must be set"},
		{"[store]\ndsn = \"postgres://x\"", "store.dsn: is set but store.driver is \"sqlite\""},
		{"[store]\nbatch_size = 10001", "store.batch_size: 10001 out of range"},
		{"[store]\nmax_queue_bytes = \"1KiB\"", "store.max_queue_bytes: 1024 too small"},
		{"[store]\nretention = \"10m\"", "store.retention: 10m0s too short"},
		{"[store]\nnode = \"a b\"", "store.node: \"a b\" must be a non-empty name"},
	} {
		_, err := LoadBytes("maildlp.toml", []byte(tc.conf))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.conf, err, tc.want)
		}
	}
	for _, ok := range []string{"[store]\nbatch_size = 10000", "[store]\ndriver = \"none\"", "[store]\ndriver = \"postgres\"\ndsn = \"host=db\"", "[store]\nretention = \"720h\""} {
		if _, err := LoadBytes("maildlp.toml", []byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
