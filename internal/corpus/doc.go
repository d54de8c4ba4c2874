// Package corpus generates the mail that measures detection quality: a
// clean corpus of ordinary business and technical mail full of numbers
// that look like identifiers but are not (tracking, order and invoice
// numbers, fuzzer test-case ids that pass Luhn, hashes, timestamps, IBANs
// with a typo), and a positive corpus that puts a checksum-valid fake of
// every built-in identifier in every place and encoding the engine reads.
//
// Everything is generated from a fixed seed, so the corpora are the same
// on every run and a failing message can be rebuilt and read. No value is
// real personal data: every identifier is computed from random digits
// with its published check rule.
//
// The package is used by tests only (policy/quality); it builds messages
// with internal/testutil.
package corpus
