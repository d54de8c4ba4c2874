package idm

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/maildlp/maildlp/policy/extract"
)

// stepEvery is the text between two calls of the caller's meter.
const stepEvery = 64 << 10

// sweepEvery is the text between two removals of closed runs.
const sweepEvery = 4 << 10

// Hit is what a message shares with one indexed document.
type Hit struct {
	Doc   int  // index into Index.Docs
	Exact bool // the bytes or the normalised text of a part are the document's
	// Matched is the number of the document's fingerprints present in the
	// message, each counted once.
	Matched int
	// Containment is Matched over the document's fingerprints: the share
	// of the document the message carries (0 for an exact-only document).
	Containment float64
	// Passage is the longest contiguous passage of the document found in
	// one part, in normalised characters: the span from the first to the
	// end of the last of a chain of fingerprints that keep their distance
	// in the document and lie at most w apart. It is a lower bound of the
	// shared passage (which may reach up to w-1 characters further on each
	// side).
	Passage int
}

// Scanner matches message text against an index. It holds the buffers of
// one scan; use one per goroutine.
type Scanner struct {
	ix   *Index
	wn   *winnower
	norm []byte
	hits map[int]*Hit
	seen map[int]bool // entries already counted
	runs map[runKey]*run
	work int64
	mac  hash.Hash // HMAC of the exact hashes
	sum  [sha256.Size]byte
}

type runKey struct {
	doc   uint32
	delta int // message position minus document position
}

type run struct{ start, last int }

// NewScanner returns a scanner of ix.
func (ix *Index) NewScanner() *Scanner {
	return &Scanner{ix: ix, wn: newWinnower(ix.key, ix.k, ix.w)}
}

// Reset forgets the previous message.
func (s *Scanner) Reset() {
	// Small maps are kept for the next part or message; one grown by a
	// large message goes, so that a pooled scanner does not hold it.
	if s.hits == nil || len(s.seen) > 4096 || len(s.hits) > 64 {
		s.hits = make(map[int]*Hit)
		s.seen = make(map[int]bool)
	} else {
		clear(s.hits)
		clear(s.seen)
	}
	s.work = 0
}

// exactSum is Key.exactSum with the scanner's MAC, allocated once.
func (s *Scanner) exactSum(kind string, b []byte) [16]byte {
	if s.mac == nil {
		s.mac = hmac.New(sha256.New, s.ix.key.exact)
	}
	s.mac.Reset()
	s.mac.Write([]byte(kind))
	s.mac.Write(b)
	var out [16]byte
	copy(out[:], s.mac.Sum(s.sum[:0]))
	return out
}

// Work is the work of this message so far: bytes normalised and hashed
// plus index entries visited.
func (s *Scanner) Work() int64 { return s.work }

func (s *Scanner) hit(doc int) *Hit {
	h := s.hits[doc]
	if h == nil {
		h = &Hit{Doc: doc}
		s.hits[doc] = h
	}
	return h
}

// Bytes looks up the keyed hash of a whole file (an attachment) among the
// exact hashes of the indexed documents' bytes.
func (s *Scanner) Bytes(b []byte) {
	s.work += int64(len(b))
	for _, d := range s.ix.exact[s.exactSum("b", b)] {
		s.hit(int(d)).Exact = true
	}
}

// Text matches one part of the message. step is the scan's meter: it is
// called with the work done every 64 KiB of text and once at the end, and
// when it returns false the part is left unfinished and Text returns
// false, so that the caller records the message as not fully scanned. A
// nil step never stops. The work is linear in len(text): normalising,
// hashing each position once, and per fingerprint at most the postings of
// one hash, which boilerplate suppression bounds.
func (s *Scanner) Text(text string, step func(n int) bool) bool {
	if s.hits == nil {
		s.Reset()
	}
	// normalised in pieces of about stepEvery bytes (see pieceEnd), so
	// that the meter is asked on the way
	s.norm = s.norm[:0]
	for rest := text; len(rest) > 0; {
		end := pieceEnd(rest, stepEvery)
		s.norm = appendNormalized(s.norm, rest[:end])
		rest = rest[end:]
		if step != nil && !step(end) {
			return false
		}
	}
	s.norm = trimSpace(s.norm)
	n := s.norm
	work := len(text) + len(n)
	for _, d := range s.ix.exact[s.exactSum("t", n)] {
		s.hit(int(d)).Exact = true
	}
	if len(n) < s.ix.k {
		s.work += int64(work)
		return true
	}
	clear(s.runs)
	if s.runs == nil {
		s.runs = make(map[runKey]*run)
	}
	ix := s.ix
	next := stepEvery
	nextSweep := sweepEvery
	ok := s.wn.run(n, func(raw uint64, pos int) bool {
		if pos >= next && step != nil {
			if !step(stepEvery) {
				return false
			}
			next += stepEvery
		}
		if pos >= nextSweep {
			// A run whose last fingerprint is more than w back is
			// closed: a later hit of its key starts afresh, exactly as
			// a new run does. Dropping them keeps the map to the runs
			// still open, not one per hit of a text that repeats a
			// passage at ever new distances.
			work += len(s.runs)
			for k, r := range s.runs {
				if pos-r.last > ix.w {
					delete(s.runs, k)
				}
			}
			nextSweep = pos + sweepEvery
		}
		lo, hi := ix.lookup(ix.key.stored(raw))
		work += 1 + hi - lo
		for e := lo; e < hi; e++ {
			_, doc := ix.entry(e)
			h := s.hit(int(doc))
			if !s.seen[e] {
				s.seen[e] = true
				h.Matched++
			}
			k := runKey{doc, pos - ix.entryPos(e)}
			r := s.runs[k]
			switch {
			case r == nil:
				s.runs[k] = &run{pos, pos}
				r = s.runs[k]
			case pos-r.last > ix.w:
				r.start = pos
			}
			r.last = pos
			h.Passage = max(h.Passage, r.last-r.start+ix.k)
		}
		return true
	})
	s.work += int64(work)
	if step != nil && ok {
		ok = step(len(n) - (next - stepEvery))
	}
	return ok
}

// pieceEnd is where the next piece of rest, of about size bytes, ends
// for normalising in pieces: before an ASCII byte, or inside a
// non-ASCII run (which may be the whole part: Chinese prose has no ASCII
// byte) before the next valid rune that starts an NFKC segment after a
// valid one, where normalising and folding the two pieces give the
// whole's result. Only a run of combining marks or invalid bytes is
// read to its end.
func pieceEnd(rest string, size int) int {
	end := min(max(size, 1), len(rest))
	for ; end < len(rest) && rest[end] >= utf8.RuneSelf; end++ {
		if !utf8.RuneStart(rest[end]) {
			continue
		}
		r, n := utf8.DecodeRuneInString(rest[end:])
		p, pn := utf8.DecodeLastRuneInString(rest[:end])
		if (r != utf8.RuneError || n > 1) && (p != utf8.RuneError || pn > 1) && norm.NFKC.PropertiesString(rest[end:]).BoundaryBefore() {
			break
		}
	}
	return end
}

// Hits returns what the message shares with each document, in document
// order.
func (s *Scanner) Hits() []Hit {
	var out []Hit
	for i := range s.ix.Docs {
		h := s.hits[i]
		if h == nil {
			continue
		}
		if fp := s.ix.Docs[i].Fingerprints; fp > 0 {
			h.Containment = float64(h.Matched) / float64(fp)
		}
		out = append(out, *h)
	}
	return out
}

// Rule says when a document counts as found. Each criterion that is set
// is enough on its own: an exact copy, a share of the document, or one
// long verbatim passage of it (a paragraph pasted from a 100-page
// document has a tiny containment but is still a leak).
type Rule struct {
	Exact          bool    // an exact copy of the bytes or of the normalised text
	MinContainment float64 // 0 < x <= 1; 0: not used
	MinPassage     int     // normalised characters; 0: not used
}

// containmentPassage is the shortest shared passage (normalised
// characters) a containment match needs besides its share: a short
// document has few fingerprints, and two of them shared by chance with a
// document of the same template are already a tenth of it. Real copies,
// even an excerpt with edited words, share passages far longer.
const containmentPassage = 64

// Match reports whether h satisfies the rule.
func (r Rule) Match(h Hit) bool {
	switch {
	case r.Exact && h.Exact:
		return true
	case r.MinContainment > 0 && h.Matched > 0 && h.Containment >= r.MinContainment && h.Passage >= containmentPassage:
		return true
	case r.MinPassage > 0 && h.Passage >= r.MinPassage:
		return true
	}
	return false
}

// Evidence is the masked description of a hit: the document's name
// redacted like a location, the containment and the passage length,
// never text.
func (ix *Index) Evidence(h Hit) string {
	name := extract.RedactName(ix.Docs[h.Doc].Name)
	if h.Exact {
		return "document " + name + ": exact copy"
	}
	return fmt.Sprintf("document %s: %.0f%% of its fingerprints, passage %d chars", name, 100*h.Containment, h.Passage)
}
