// Package ingest carries incidents from the mail path to the incident
// store without the mail path ever waiting on the store.
//
// [Recorder.Record] appends the incident to a [Queue]: append-only
// segment files on local disk, one write(2) per incident, fsynced once
// per flush interval (a crash of maildlp itself loses nothing; a crash
// of the machine loses at most one interval). A [Writer] goroutine reads
// the queue in order, inserts batches into the store and only then
// advances the queue's cursor, so an incident leaves the queue after the
// store has it. While the store is unreachable (PostgreSQL stopped, a
// locked SQLite file) the writer retries with backoff and the queue
// grows; a restart replays from the cursor. The store ignores incident
// ids it already has, so a replay stores each incident exactly once.
//
// The queue is bounded (store.max_queue_bytes). At the bound a new
// incident is dropped from the store path: counted
// (maildlp_store_queue_dropped_total) and logged, while the decision log
// line and the JSON-lines incident log still record it. Refusing or
// delaying mail because the review database is behind would turn a
// database outage into a mail outage; spilling beyond the bound would
// only move the disk-full failure elsewhere.
//
// An optional webhook output has a queue and a writer of its own: batches
// of JSON lines POSTed with an HMAC-SHA256 signature ([Sign]), retried
// until the receiver answers 2xx.
package ingest
