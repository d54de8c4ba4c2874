// Package testutil holds what the tests of several packages share:
// message and document builders, a server started for the length of a
// test and shut down at its end ([Serve]), a bounded wait for a condition
// ([WaitFor], [Poll]), a loopback listener ([Listen]), a logger that
// writes to the test log ([Logger], [LogBuffer]) and a clock that moves
// only when a test says so ([Clock]). Tests import it; the product never
// does.
package testutil
