// Package store keeps incidents, their review state, the quarantine of
// held messages and an append-only audit log in one SQL schema, on SQLite
// (the embedded default: one file, WAL mode, pure Go, so the binary stays
// static) or on PostgreSQL (several nodes sharing one store).
//
// The schema is versioned by embedded migrations (migrations/sqlite and
// migrations/postgres hold the same tables; only identity columns and
// triggers differ), applied by [Store.Migrate]. Times are stored as
// microseconds since the Unix epoch in both dialects.
//
// Guarantees:
//   - An [Incident] holds masked evidence only; the store never sees a
//     matched value (the front ends' verdicts carry none).
//   - [Store.Insert] is idempotent per incident id, so a durable queue
//     replayed after a crash stores each incident exactly once.
//   - Every change of an incident, a held message or a request appends an
//     [Event] in the same transaction; events are never updated or
//     deleted (no code path does, and a trigger refuses it in both
//     dialects).
//   - [Store.List] pages by keyset (time, id), newest first, with an
//     index behind every filter, so a page costs the same on page 1 and
//     page 10,000.
//   - [Store.ClaimRequests] hands each pending request to exactly one
//     caller: FOR UPDATE SKIP LOCKED on PostgreSQL, one write
//     transaction on SQLite.
package store
