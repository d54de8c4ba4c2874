// Package action holds the plain values that the policy engine returns:
// [Verdict], [Action] with its precedence (block > tempfail > quarantine >
// redirect > modify > notify > pass), [Reply] and friends. It imports nothing
// of ours so that both front ends and tests can use it freely.
package action
