// Package quarantine carries out the quarantine workflow next to one MTA:
// it lists the MTA's hold queue, releases and deletes held messages, and
// executes the release and delete requests that the store holds for this
// node's MTA.
//
// An [MTA] is the hold queue of one mail transfer agent: [Postfix] (the
// hold queue: postqueue -j, postsuper -H and -d) or [Sendmail] (the
// quarantine queue of Sendmail 8.13 and later: mailq -qQ, sendmail -Q with
// -qQ -qI, and the hf/df files of the queue directory). Their listings
// come from programs that print what senders wrote (addresses), so the
// parsers are strict: a listing that does not parse is an error as a
// whole, never a partial list that [Sync] would read as "the rest is gone".
//
// A [Worker] claims the requests of its node from the store, executes
// only those whose MTA host is its own, and records each result with an
// event. [Sync] reconciles the store with the hold queue.
//
// The hop (the reinjection front end) cannot hold mail itself: it marks a
// message to hold with a [HoldMark] header that the downstream Postfix
// maps to HOLD (contrib/postfix/maildlp_hold.pcre); see docs/quarantine.md.
package quarantine
