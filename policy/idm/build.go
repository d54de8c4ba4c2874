package idm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"slices"
)

// Defaults of the builder.
const (
	// DefaultMinChars is the normalised length under which a document is
	// matched exactly only: its few fingerprints would make partial
	// matches of common phrases.
	DefaultMinChars = 300
	// DefaultMaxDocs drops a fingerprint found in more indexed documents
	// than this: shared boilerplate (templates, disclaimers) that says
	// nothing about which document a message carries.
	DefaultMaxDocs = 10
)

// Builder indexes documents. Add every document and the background
// corpus, then Write the index.
type Builder struct {
	key        *Key
	k, w       int
	minChars   int
	maxDocs    int
	docs       []buildDoc
	background []byte // normalised background text, parts separated by a newline
	bgParts    [][]byte
}

type buildDoc struct {
	name      string
	norm      []byte
	bytesHash [16]byte
	textHash  [16]byte
	fps       []fingerprint // raw rolling hash, first position in the document
	kept      int           // fingerprints left after boilerplate suppression
}

// BuildOptions are the parameters of an index; zero fields take the defaults.
type BuildOptions struct {
	K, W     int
	MinChars int // see DefaultMinChars
	MaxDocs  int // see DefaultMaxDocs
}

// NewBuilder returns a builder of an index keyed by key.
func NewBuilder(key *Key, o BuildOptions) *Builder {
	b := &Builder{key: key, k: o.K, w: o.W, minChars: o.MinChars, maxDocs: o.MaxDocs}
	if b.k <= 0 {
		b.k = DefaultK
	}
	if b.w <= 0 {
		b.w = DefaultW
	}
	if b.minChars <= 0 {
		b.minChars = DefaultMinChars
	}
	if b.maxDocs <= 0 {
		b.maxDocs = DefaultMaxDocs
	}
	return b
}

// Threshold is t = w+k-1: every passage of at least t normalised
// characters shared with an indexed document is found.
func (b *Builder) Threshold() int { return b.w + b.k - 1 }

// DocReport says how one document was indexed.
type DocReport struct {
	Name      string
	Chars     int  // normalised length
	ExactOnly bool // under MinChars: exact matches only
	// Fingerprints is the number kept after boilerplate suppression
	// (known after Write).
	Fingerprints int
}

// Add indexes one document: raw is its file (for the exact hash of the
// bytes), text its extracted text. It reports whether the document is long
// enough for partial matching.
func (b *Builder) Add(name string, raw []byte, text string) DocReport {
	n := AppendNormalized(nil, text)
	d := buildDoc{name: name, norm: n,
		bytesHash: b.key.exactSum("b", raw), textHash: b.key.exactSum("t", n)}
	if len(n) >= b.minChars {
		seen := make(map[uint64]bool)
		newWinnower(b.key, b.k, b.w).run(n, func(raw uint64, pos int) bool {
			if !seen[raw] {
				seen[raw] = true
				d.fps = append(d.fps, fingerprint{raw, pos})
			}
			return true
		})
	}
	b.docs = append(b.docs, d)
	return DocReport{Name: name, Chars: len(n), ExactOnly: len(n) < b.minChars}
}

// AddBackground adds text of the background corpus: any fingerprint of an
// indexed document that occurs anywhere in it is dropped.
func (b *Builder) AddBackground(text string) {
	b.bgParts = append(b.bgParts, AppendNormalized(nil, text))
}

// suppress drops boilerplate: a selected fingerprint whose k-gram occurs
// (anywhere, selected or not) in more than maxDocs documents or in the
// background corpus. Counting every k-gram, not only the selected ones,
// matters: a template passage shared by two documents is selected at
// slightly different places near its edges, and would survive a count of
// selected fingerprints there.
func (b *Builder) suppress() {
	type count struct {
		docs int32
		last int32 // last document counted, +1
	}
	counts := make(map[uint64]*count)
	for _, d := range b.docs {
		for _, f := range d.fps {
			if counts[f.hash] == nil {
				counts[f.hash] = &count{}
			}
		}
	}
	wn := newWinnower(b.key, b.k, b.w)
	drop := int32(b.maxDocs)
	for i, d := range b.docs {
		wn.all(d.norm, func(raw uint64) {
			if c := counts[raw]; c != nil && c.last != int32(i+1) {
				c.last = int32(i + 1)
				c.docs++
			}
		})
	}
	for _, bg := range b.bgParts {
		wn.all(bg, func(raw uint64) {
			if c := counts[raw]; c != nil {
				c.docs = drop + 1
			}
		})
	}
	for i := range b.docs {
		d := &b.docs[i]
		d.fps = slices.DeleteFunc(d.fps, func(f fingerprint) bool { return counts[f.hash].docs > drop })
	}
}

// Write suppresses boilerplate and writes the index to w. It returns a
// report per document, in the order they were added.
func (b *Builder) Write(w io.Writer) ([]DocReport, error) {
	if len(b.docs) == 0 {
		return nil, errors.New("idm: no document to index")
	}
	if len(b.docs) > maxDocsInIndex {
		return nil, fmt.Errorf("idm: %d documents, at most %d per index", len(b.docs), maxDocsInIndex)
	}
	b.suppress()
	return b.write(w)
}

// write writes the index of the documents as they are.
func (b *Builder) write(w io.Writer) ([]DocReport, error) {
	var ents []entry
	reps := make([]DocReport, len(b.docs))
	for i := range b.docs {
		d := &b.docs[i]
		d.kept = len(d.fps)
		reps[i] = DocReport{Name: d.name, Chars: len(d.norm), ExactOnly: len(d.norm) < b.minChars, Fingerprints: d.kept}
		for _, f := range d.fps {
			ents = append(ents, entry{hash: b.key.stored(f.hash), doc: uint32(i), pos: uint32(min(f.pos, 1<<32-1))})
		}
	}
	slices.SortFunc(ents, func(a, b entry) int {
		if a.hash != b.hash {
			if a.hash < b.hash {
				return -1
			}
			return 1
		}
		return int(a.doc) - int(b.doc)
	})

	var docs []byte
	for _, d := range b.docs {
		name := d.name
		if len(name) > 1<<16-1 {
			name = name[:1<<16-1]
		}
		docs = binary.LittleEndian.AppendUint16(docs, uint16(len(name)))
		docs = append(docs, name...)
		docs = binary.LittleEndian.AppendUint32(docs, uint32(d.kept))
		docs = binary.LittleEndian.AppendUint32(docs, uint32(min(len(d.norm), 1<<32-1)))
		docs = append(docs, d.bytesHash[:]...)
		docs = append(docs, d.textHash[:]...)
	}
	bb := bucketBits(len(ents))
	buckets := make([]byte, 0, 4*((1<<bb)+1))
	j := 0
	for bkt := 0; bkt <= 1<<bb; bkt++ {
		for j < len(ents) && int(ents[j].hash>>(64-bb)) < bkt {
			j++
		}
		buckets = binary.LittleEndian.AppendUint32(buckets, uint32(j))
	}
	h := header{version: formatVersion, k: uint16(b.k), w: uint16(b.w), keyID: b.key.id,
		docs: uint32(len(b.docs)), bucketBits: uint32(bb), entries: uint64(len(ents)), minChars: uint32(b.minChars)}
	h.docsOff = headerSize
	h.docsLen = uint64(len(docs))
	h.bucketsOff = align8(h.docsOff + h.docsLen)
	h.entriesOff = align8(h.bucketsOff + uint64(len(buckets)))
	h.fileLen = h.entriesOff + uint64(len(ents))*entrySize

	body := make([]byte, h.fileLen-headerSize)
	copy(body, docs)
	copy(body[h.bucketsOff-headerSize:], buckets)
	e := body[h.entriesOff-headerSize:]
	for i, x := range ents {
		binary.LittleEndian.PutUint64(e[i*entrySize:], x.hash)
		binary.LittleEndian.PutUint32(e[i*entrySize+8:], x.doc)
		binary.LittleEndian.PutUint32(e[i*entrySize+12:], x.pos)
	}
	h.crc = crc32.Checksum(body, castagnoli)
	if _, err := w.Write(h.marshal()); err != nil {
		return nil, fmt.Errorf("idm: write index: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return nil, fmt.Errorf("idm: write index: %w", err)
	}
	return reps, nil
}

// bucketBits sizes the directory of the entry table: about two entries
// per bucket, so a lookup reads one or two cache lines.
func bucketBits(n int) int {
	if n < 4 {
		return 1
	}
	return min(max(bits.Len(uint(n))-1, 1), 30)
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

// entry is one row of the fingerprint table.
type entry struct {
	hash     uint64
	doc, pos uint32
}
