// Package dataset is the interface between the policy engine and the
// detectors that match an organisation's own data: exact data matching
// (rows of an indexed table, package edm, type = "edm") and indexed
// document matching (passages of indexed documents, type = "idm").
//
// A dataset detector is a [Matcher]. The engine opens one per [[detector]]
// of such a type through the [Opener] registered for the type (see
// [Register]; policy.New reports an error with the detector's file:line
// when the opener fails: a missing column, a corrupt index, a key that
// is not the index's key). For every part of a message the engine calls
// [Matcher.Match] after the built-in identifiers, and the matches it
// returns feed the same all/any/none conditions, counts, confidence and
// proximity conditions as every other detector:
//
//   - Detector is the [[detector]] name;
//   - Key identifies what was matched, for distinct counts: an EDM match
//     counts one per table row, an IDM match one per indexed document;
//     it is a keyed value, never a plain hash of the data;
//   - Evidence is masked: the dataset name, the columns (or the share of
//     the document) matched and how many rows, never a value;
//   - Start and End locate the match in the part's text (for proximity).
//
// Match must be linear in the length of the text and must report its work
// to the [Meter]: it calls Step with the bytes it examined and stops when
// Step returns false (the scan deadline passed or the scan was
// cancelled), returning what it found and false, so that the engine
// records the rest of the part as unscannable (timeout).
//
// A Matcher is shared by concurrent scans and lives as long as the engine
// that opened it: a reload opens new ones and the old engine, with its
// matchers and their mapped indexes, is released when its last scan ends.
package dataset
