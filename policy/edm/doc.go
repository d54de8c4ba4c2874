// Package edm is exact data matching: it finds the rows of an
// organisation's own table (customers, employees, accounts) in message
// text, not values that merely look like an identifier.
//
// Offline, [Build] reads a CSV, TSV or pipe-separated export whose columns
// each have a class (digits, alnum, email, phone, name, date; see [Class])
// and a role: a primary column's values anchor a row, supporting columns
// only count once a row is anchored. Each cell is normalised by its class
// (NFKC, case, delimiters, zero-width and full-width forms, as
// policy/extract does for message text) and the index holds only keyed
// functions of it, under a per-dataset secret [Key] kept in a separate
// file: a SipHash-2-4 key for each anchor value in an xor filter, a
// 64-bit truncated HMAC-SHA256 tag for each anchor value in a sorted tag
// table with its row postings, and a 32-bit SipHash tag per supporting
// cell. No cell value and no unkeyed hash of one is stored; with another
// key nothing matches. The index file format is described in format.go;
// [Open] maps it read-only and refuses a corrupt file or one built with
// another key.
//
// At scan time a [Matcher] (a policy/dataset.Matcher, registered for
// [[detector]] type "edm") makes one linear pass over a part's text: the
// shapes of the anchor columns, learnt at index time, pick the
// candidates; each costs a SipHash and a filter probe, and only filter
// hits cost an HMAC and a table search. An anchored row then matches
// when enough distinct columns of that same row are found near the
// anchor (see [Matcher]). Evidence names the dataset and the columns,
// never a value.
package edm
