package milter

import (
	"errors"

	"github.com/maildlp/maildlp/policy/action"
)

// outcome is what a failure class does to the message.
type outcome int

const (
	outcomeTempFail   outcome = iota // 451 4.7.1: the client keeps the message and retries
	outcomeAccept                    // deliver unscanned (no pass header)
	outcomeQuarantine                // hold unscanned for review
)

func parseOutcome(s string, def outcome) outcome {
	switch s {
	case "tempfail":
		return outcomeTempFail
	case "accept":
		return outcomeAccept
	case "quarantine":
		return outcomeQuarantine
	}
	return def
}

func (o outcome) String() string {
	switch o {
	case outcomeAccept:
		return "accept"
	case outcomeQuarantine:
		return "quarantine"
	}
	return "tempfail"
}

// action is the verdict action the outcome amounts to, for the record.
func (o outcome) action() action.Action {
	switch o {
	case outcomeAccept:
		return action.Pass
	case outcomeQuarantine:
		return action.Quarantine
	}
	return action.TempFail
}

// failure holds the configured outcome of each failure class.
type failure struct {
	onTimeout, onOverload, onError outcome
}

// Failure classes, recorded in report.Decision.Err (errors.Is works).
var (
	ErrScanTimeout = errors.New("milter: scan deadline exceeded")
	ErrOverload    = errors.New("milter: too many concurrent sessions")
	ErrEngine      = errors.New("milter: engine error")
	// ErrPassHeaders: more pass header fields than pass_header.max_incoming.
	ErrPassHeaders = errors.New("milter: too many incoming pass header fields")
	// ErrPassHeaderKept: the message arrived with a pass header and the MTA
	// did not grant the change-header action to remove it.
	ErrPassHeaderKept = errors.New("milter: incoming pass header cannot be removed")
	// ErrNUL is the cause recorded for a message refused for a NUL byte.
	ErrNUL = errors.New("milter: NUL byte in message data")
)
