package policy

import (
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// TestIssue9LimitDefaultsAgree: the defaults are config's table; extract
// and detect, below config, keep a copy only for code that runs without a
// config, and the copies must not drift apart.
func TestIssue9LimitDefaultsAgree(t *testing.T) {
	e, err := New(&config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Limits(), extract.DefaultLimits(); got != want {
		t.Errorf("engine limits from an empty config = %+v, want extract.DefaultLimits() = %+v", got, want)
	}
	if detect.DefaultProximityWindow != config.DefaultKeywordWindow {
		t.Errorf("detect.DefaultProximityWindow = %d, config.DefaultKeywordWindow = %d", detect.DefaultProximityWindow, config.DefaultKeywordWindow)
	}
}
