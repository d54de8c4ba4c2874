package policy

import (
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/extract"
)

// TestIssue9LimitDefaultsAgree: the limit defaults are config's table;
// extract keeps a copy only for code that scans without a config, and the
// two must not drift apart.
func TestIssue9LimitDefaultsAgree(t *testing.T) {
	e, err := New(&config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Limits(), extract.DefaultLimits(); got != want {
		t.Errorf("engine limits from an empty config = %+v, want extract.DefaultLimits() = %+v", got, want)
	}
}
