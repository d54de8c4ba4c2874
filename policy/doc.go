// Package policy is the detection engine: it turns a [Message] into one
// action.Verdict. It extracts text (package extract), runs detectors
// (package detect), evaluates the compiled policies with their exceptions
// and response rules, and merges the result by the precedence documented in
// package action. It knows nothing of SMTP or milter and does no network I/O.
package policy
