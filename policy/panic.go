package policy

import (
	"fmt"
	"strings"
)

// PanicError is a panic the engine recovered while it evaluated a
// message or an envelope. Its Error is one line, fit for an incident
// record or a reply log; Stack is for the debug log only (it may name
// internal state, never a matched value: the engine keeps those masked).
// Front ends find it with errors.As, log the stack and count the panic.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	v := strings.Join(strings.Fields(fmt.Sprint(e.Value)), " ")
	if len(v) > 200 {
		v = v[:200] + "..."
	}
	return "policy: recovered panic: " + v
}
