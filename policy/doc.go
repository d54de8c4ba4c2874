// Package policy is the detection engine: it turns a [Message] into one
// action.Verdict. [Engine.Evaluate] extracts text (package extract), runs
// every built-in identifier and the policy-defined detectors (package
// detect), evaluates each compiled policy once — exceptions, then the rule
// of all/any/none groups and leaf conditions — and merges the responses of
// the matching policies by the precedence documented in package action.
// [Engine.Explain] also says why each policy matched or not, and
// [Engine.CheckEnvelope] and [Engine.CheckRecipient] decide envelope-only
// policies at MAIL and RCPT time.
//
// The engine knows nothing of SMTP or milter, does no network I/O, writes
// no logs and never puts a matched value in a verdict: detectors return
// masked evidence, and notices are rendered from it. The policy format is
// described in docs/policy.md.
package policy
