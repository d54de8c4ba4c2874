// Package outbox is the durable queue of notification messages. A notice
// is rendered as an RFC 5322 message and written to its own file in the
// outbox directory (temporary file, fsync, rename, fsync of the directory)
// before [Outbox.Enqueue] returns; [Outbox.Run] then delivers each file by
// SMTP (RFC 5321) to the configured relay and deletes it once the relay
// has answered 250 to the end of data.
//
// The delivery schedule lives in the file name (attempt number and time of
// the next attempt), so a restarted process resumes it where it stopped.
// A temporary failure (4xx, connection refused, timeout) is retried with
// exponential backoff from retry_min up to retry_max until max_age; a
// permanent refusal (5xx) or max_age moves the file to dead/ with a reason
// file beside it and an error log line.
//
// Exactly once: a notice is sent again only if the process dies between
// the relay's 250 and the removal of the file (a few microseconds), or if
// the connection breaks after the final dot before the relay's answer
// arrives. Each notice carries a Message-ID fixed when it was queued, so
// such a duplicate is recognisable (and dropped by relays that deduplicate
// on Message-ID). A lock on the directory keeps a second process off it.
package outbox
