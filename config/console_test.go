package config

import (
	"github.com/maildlp/maildlp/policy/detect"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestDocsConsoleKeys checks that every [console] key is documented in
// docs/config.md, so that a key cannot be added without its row.
func TestDocsConsoleKeys(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "## `[console]`")
	if !ok {
		t.Fatal("docs/config.md has no [console] section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	typ := reflect.TypeFor[Console]()
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("toml")
		if !strings.Contains(sec, "`"+key+"`") {
			t.Errorf("console.%s is not documented in docs/config.md", key)
		}
	}
}

func TestConsoleCheck(t *testing.T) {
	cases := []struct {
		name string
		toml string
		want string // "" for no error
	}{
		{"empty", "", ""},
		{"full", `[console]
listen = "127.0.0.1:9031"
tls_cert = "c.pem"
tls_key = "k.pem"
session_lifetime = "8h"
trusted_proxies = ["10.0.0.0/8", "192.0.2.1"]
proxy_user_header = "X-Remote-User"
trusted_origins = ["https://dlp.example.com"]
page_size = 500
`, ""},
		{"bad listen", "[console]\nlisten = \"nope\"\n", "console.listen"},
		{"half tls", "[console]\ntls_cert = \"c.pem\"\n", "tls_cert and tls_key must be set together"},
		{"page size", "[console]\npage_size = 501\n", "more than 500"},
		{"proxy", "[console]\ntrusted_proxies = [\"10.0.0.300\"]\n", "invalid address or CIDR"},
		{"header without proxies", "[console]\nproxy_user_header = \"X-Remote-User\"\n", "needs trusted_proxies"},
		{"origin", "[console]\ntrusted_origins = [\"dlp.example.com\"]\n", "invalid origin"},
		{"unknown key", "[console]\nlisten_addr = \"x\"\n", "unknown key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadBytes(t.TempDir()+"/maildlp.toml", []byte(c.toml), detect.IsBuiltin)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Load = %v, want no error", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Load = %v, want an error with %q", err, c.want)
			}
		})
	}
}
