package config

import (
	"fmt"

	"github.com/maildlp/maildlp/policy/action"
)

// Outcome is what a failure class ([failure] on_timeout, on_overload,
// on_error) does to a message. The zero value is the default, tempfail.
type Outcome int

const (
	OutcomeTempFail   Outcome = iota // 451 4.7.1: the client keeps the message and retries
	OutcomeAccept                    // deliver unscanned (no pass header)
	OutcomeQuarantine                // hold unscanned for review
)

var outcomeNames = [...]string{"tempfail", "accept", "quarantine"}

func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return fmt.Sprintf("outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an outcome as config files write it.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if n == string(b) {
			*o = Outcome(i)
			return nil
		}
	}
	return fmt.Errorf("unknown failure outcome %q (want %s)", b, quoteList(outcomeNames[:]))
}

// Action is the verdict action the outcome amounts to, for the record.
func (o Outcome) Action() action.Action {
	switch o {
	case OutcomeAccept:
		return action.Pass
	case OutcomeQuarantine:
		return action.Quarantine
	}
	return action.TempFail
}
