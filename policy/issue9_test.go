package policy

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// TestIssue9EnginePanicOneLine: a recovered panic is a *PanicError whose
// text is one line (what the incident records); the stack is kept apart
// for the debug log.
func TestIssue9EnginePanicOneLine(t *testing.T) {
	cfg, _ := config.LoadBytes("x.toml", []byte(pci), detect.IsBuiltin)
	e, _ := compile(cfg, fakeScan, func(context.Context, io.Reader, extract.Limits) (*extract.Result, error) {
		panic("boom\nsecond line")
	})
	v := e.Evaluate(context.Background(), Message{Envelope: env})
	var pe *PanicError
	if !errors.As(v.Err, &pe) {
		t.Fatalf("Evaluate after panic: err %v, want a *PanicError", v.Err)
	}
	if msg := v.Err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "boom second line") {
		t.Errorf("error text %q, want one line naming the panic", msg)
	}
	if !strings.Contains(string(pe.Stack), "goroutine") {
		t.Errorf("no stack kept: %q", pe.Stack)
	}
}

// TestIssue9EnvelopePanicNotSwallowed: a panic in an envelope-only policy
// is reported to the front end (ok with a *PanicError), which applies
// on_error; it used to be dropped as "no early decision".
func TestIssue9EnvelopePanicNotSwallowed(t *testing.T) {
	e := engineFor(t, `
[[policy]]
name = "Banned sender"
rule = { sender = ["*@spammer.org"] }
block = {}
`, nil)
	for _, c := range e.policies {
		c.rule = nil // evaluating it panics
	}
	for name, check := range map[string]func() (bool, error){
		"CheckEnvelope": func() (bool, error) { v, ok := e.CheckEnvelope(Envelope{MailFrom: "x@spammer.org"}); return ok, v.Err },
		"CheckRecipient": func() (bool, error) {
			v, ok := e.CheckRecipient(Envelope{MailFrom: "x@spammer.org"}, "a@b.org")
			return ok, v.Err
		},
	} {
		ok, err := check()
		var pe *PanicError
		if !ok || !errors.As(err, &pe) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s after a panic: ok %v err %v, want ok with a one-line *PanicError", name, ok, err)
		}
	}
}
