// Package idm is indexed document matching: it finds passages of an
// organisation's own confidential documents in a message, also when they
// are excerpted, edited, re-wrapped or packed in an archive.
//
// Documents are indexed offline ([Builder]): their text (as the extractor
// reads it) is normalised ([Normalize]: NFKC, case folding, every run of
// whitespace and punctuation collapsed to one space) and fingerprinted by
// winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003): a keyed hash of
// every k-gram, of which the minimum of every window of w consecutive
// hashes is kept. Any passage of at least t = w+k-1 normalised characters
// that a message shares with a document contains a fingerprint of it.
// Fingerprints seen in more than a set number of indexed documents or in
// a background corpus are boilerplate and dropped. Every hash is keyed by
// a per-index secret kept apart from the index ([LoadKey]), so the index
// alone reveals nothing about the text; exact matches use keyed hashes of
// the bytes and of the normalised text.
//
// At scan time a [Index] winnows the message text the same way and looks
// each fingerprint up in a sorted table read through mmap ([Open]). A
// [Rule] asks for an exact match, a minimum containment (the share of an
// indexed document's fingerprints present in the message) and a minimum
// longest contiguous passage. Evidence names the document (redacted),
// the containment and the passage length, never text.
package idm
