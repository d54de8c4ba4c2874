package config

import (
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/detect"
)

// TestIssue7Warnings: the settings that let a sender switch scanning off
// per message are named by Warnings; the defaults have none.
func TestIssue7Warnings(t *testing.T) {
	def, err := Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	if w := def.Warnings(); len(w) != 0 {
		t.Errorf("default config warnings = %q, want none", w)
	}
	c := *def
	c.Failure.OnTimeout = OutcomeAccept
	c.Unscannable = UnscannablePass
	w := c.Warnings()
	if len(w) != 2 || !strings.Contains(w[0], "failure.on_timeout") || !strings.Contains(w[1], "unscannable") || !strings.Contains(w[0], "scan_timeout") {
		t.Errorf("warnings = %q, want on_timeout and unscannable", w)
	}
}
