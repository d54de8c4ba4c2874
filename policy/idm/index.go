package idm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/maildlp/maildlp/internal/fsutil"
)

// The index file, little-endian:
//
//	header     headerSize bytes: magic, format version, k, w, key id,
//	           document count, directory bits, entry count, section
//	           offsets, file length, CRC-32C of everything after the header
//	documents  per document: name length (2), name, fingerprints kept (4),
//	           normalised length (4), keyed hash of the bytes (16) and of
//	           the normalised text (16)
//	directory  2^bits+1 entry offsets: entries whose hash starts with the
//	           top bits b lie in [dir[b], dir[b+1])
//	entries    sorted by hash: keyed fingerprint (8), document (4),
//	           first position in its normalised text (4)
//
// The file holds no text and no unkeyed hash of any: document names are
// the only plain strings.
const (
	magic          = "MDLPIDM\x00"
	formatVersion  = 1
	headerSize     = 96
	entrySize      = 16
	docFixed       = 2 + 4 + 4 + 16 + 16
	maxDocsInIndex = 1 << 24
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is an index file that is not one, is truncated or damaged, or
// of a format version this build does not read.
var ErrCorrupt = errors.New("idm: corrupt index")

// ErrWrongKey is an index built with another key than the one given.
var ErrWrongKey = errors.New("idm: index was built with another key")

type header struct {
	version                         uint32
	k, w                            uint16
	keyID                           [8]byte
	docs, bucketBits                uint32
	entries                         uint64
	docsOff, docsLen                uint64
	bucketsOff, entriesOff, fileLen uint64
	crc, minChars                   uint32
}

func (h *header) marshal() []byte {
	b := make([]byte, headerSize)
	copy(b, magic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], h.version)
	le.PutUint16(b[12:], h.k)
	le.PutUint16(b[14:], h.w)
	copy(b[16:24], h.keyID[:])
	le.PutUint32(b[24:], h.docs)
	le.PutUint32(b[28:], h.bucketBits)
	le.PutUint64(b[32:], h.entries)
	le.PutUint64(b[40:], h.docsOff)
	le.PutUint64(b[48:], h.docsLen)
	le.PutUint64(b[56:], h.bucketsOff)
	le.PutUint64(b[64:], h.entriesOff)
	le.PutUint64(b[72:], h.fileLen)
	le.PutUint32(b[80:], h.crc)
	le.PutUint32(b[84:], h.minChars)
	return b
}

func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerSize || string(b[:8]) != magic {
		return h, fmt.Errorf("%w: not an idm index", ErrCorrupt)
	}
	le := binary.LittleEndian
	h.version = le.Uint32(b[8:])
	if h.version != formatVersion {
		return h, fmt.Errorf("%w: format version %d, this build reads %d (rebuild the index)", ErrCorrupt, h.version, formatVersion)
	}
	h.k, h.w = le.Uint16(b[12:]), le.Uint16(b[14:])
	copy(h.keyID[:], b[16:24])
	h.docs, h.bucketBits = le.Uint32(b[24:]), le.Uint32(b[28:])
	h.entries = le.Uint64(b[32:])
	h.docsOff, h.docsLen = le.Uint64(b[40:]), le.Uint64(b[48:])
	h.bucketsOff, h.entriesOff, h.fileLen = le.Uint64(b[56:]), le.Uint64(b[64:]), le.Uint64(b[72:])
	h.crc, h.minChars = le.Uint32(b[80:]), le.Uint32(b[84:])
	return h, nil
}

// Doc is an indexed document as the index describes it.
type Doc struct {
	Name         string
	Fingerprints int // kept after boilerplate suppression; 0: exact only
	Chars        int // normalised length
	bytesHash    [16]byte
	textHash     [16]byte
}

// Index is a loaded index, safe for concurrent use. Its entry table is
// read in place from the mapped file.
type Index struct {
	key     *Key
	k, w    int
	minChar int
	Docs    []Doc
	bits    uint
	dir     []byte // directory, 4 bytes per bucket
	ents    []byte // entries
	exact   map[[16]byte][]uint32
	unmap   func() error
}

// Open maps the index file at path and checks it against key. A file that
// is damaged, truncated, of another format version or built with another
// key is refused; the caller keeps whatever index it had.
func Open(path string, key *Key) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idm: open index: %w", err)
	}
	defer f.Close()
	data, unmap, err := mapFile(f)
	if err != nil {
		return nil, fmt.Errorf("idm: map index %s: %w", path, err)
	}
	ix, err := Load(data, key)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// A reloaded engine drops its matchers without closing them (scans
	// in flight may still use them): the mapping goes when the index is
	// unreachable. The cleanup holds the mapping, never the index.
	once := new(sync.Once)
	release := func() error {
		var err error
		once.Do(func() { err = unmap() })
		return err
	}
	ix.unmap = release
	runtime.AddCleanup(ix, func(r func() error) { r() }, release)
	return ix, nil
}

// Close unmaps the file at once; the index must not be used afterwards.
// Without Close the mapping is released when the index is unreachable.
func (ix *Index) Close() error {
	if ix.unmap == nil {
		return nil
	}
	return ix.unmap()
}

// Load checks an index held in data (which it keeps, not copies) and
// returns it. Every offset and count is checked against the data, the
// checksum against the body, the directory and the entry order in one
// linear pass, so that a lookup never reads outside the data.
func Load(data []byte, key *Key) (*Index, error) {
	h, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	if h.fileLen != uint64(len(data)) {
		return nil, fmt.Errorf("%w: %d bytes, the header says %d (truncated?)", ErrCorrupt, len(data), h.fileLen)
	}
	if crc32.Checksum(data[headerSize:], castagnoli) != h.crc {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if h.keyID != key.id {
		return nil, fmt.Errorf("%w (index key id %x, key file id %s)", ErrWrongKey, h.keyID, key.ID())
	}
	n := uint64(len(data))
	if h.k < 4 || h.w < 1 || h.bucketBits < 1 || h.bucketBits > 30 || h.docs > maxDocsInIndex ||
		h.docsOff != headerSize || h.docsLen > n-h.docsOff ||
		h.bucketsOff < h.docsOff+h.docsLen || h.bucketsOff > n || (n-h.bucketsOff)/4 < (1<<h.bucketBits)+1 ||
		h.entriesOff < h.bucketsOff+4*((1<<h.bucketBits)+1) || h.entriesOff > n ||
		(n-h.entriesOff)/entrySize != h.entries || (n-h.entriesOff)%entrySize != 0 {
		return nil, fmt.Errorf("%w: bad section sizes", ErrCorrupt)
	}
	ix := &Index{key: key, k: int(h.k), w: int(h.w), minChar: int(h.minChars), bits: uint(h.bucketBits),
		dir:   data[h.bucketsOff : h.bucketsOff+4*((1<<h.bucketBits)+1)],
		ents:  data[h.entriesOff:],
		exact: make(map[[16]byte][]uint32)}
	ds := data[h.docsOff : h.docsOff+h.docsLen]
	for i := uint32(0); i < h.docs; i++ {
		if len(ds) < 2 {
			return nil, fmt.Errorf("%w: document table", ErrCorrupt)
		}
		l := int(binary.LittleEndian.Uint16(ds))
		if len(ds) < 2+l+docFixed-2 {
			return nil, fmt.Errorf("%w: document table", ErrCorrupt)
		}
		d := Doc{Name: string(ds[2 : 2+l])}
		ds = ds[2+l:]
		d.Fingerprints = int(binary.LittleEndian.Uint32(ds))
		d.Chars = int(binary.LittleEndian.Uint32(ds[4:]))
		copy(d.bytesHash[:], ds[8:24])
		copy(d.textHash[:], ds[24:40])
		ds = ds[40:]
		ix.Docs = append(ix.Docs, d)
		ix.exact[d.bytesHash] = append(ix.exact[d.bytesHash], i)
		ix.exact[d.textHash] = append(ix.exact[d.textHash], i)
	}
	if len(ds) != 0 {
		return nil, fmt.Errorf("%w: document table", ErrCorrupt)
	}
	// directory monotone and within the table, entries sorted, documents
	// in range, per-document counts as declared
	counts := make([]int, len(ix.Docs))
	prev := uint32(0)
	for b := 0; b <= 1<<ix.bits; b++ {
		v := binary.LittleEndian.Uint32(ix.dir[4*b:])
		if v < prev || uint64(v) > h.entries || (b == 0 && v != 0) || (b == 1<<ix.bits && uint64(v) != h.entries) {
			return nil, fmt.Errorf("%w: directory", ErrCorrupt)
		}
		prev = v
	}
	var last uint64
	for i := 0; i < int(h.entries); i++ {
		hs, doc := ix.entry(i)
		if (i > 0 && hs < last) || doc >= uint32(len(ix.Docs)) || !ix.inBucket(i, hs) {
			return nil, fmt.Errorf("%w: entry table", ErrCorrupt)
		}
		last = hs
		counts[doc]++
	}
	for i, c := range counts {
		if c != ix.Docs[i].Fingerprints {
			return nil, fmt.Errorf("%w: document %d has %d fingerprints, the table %d", ErrCorrupt, i, ix.Docs[i].Fingerprints, c)
		}
	}
	return ix, nil
}

func (ix *Index) entry(i int) (hash uint64, doc uint32) {
	e := ix.ents[i*entrySize:]
	return binary.LittleEndian.Uint64(e), binary.LittleEndian.Uint32(e[8:])
}

func (ix *Index) entryPos(i int) int {
	return int(binary.LittleEndian.Uint32(ix.ents[i*entrySize+12:]))
}

func (ix *Index) inBucket(i int, hash uint64) bool {
	b := hash >> (64 - ix.bits)
	lo := binary.LittleEndian.Uint32(ix.dir[4*b:])
	hi := binary.LittleEndian.Uint32(ix.dir[4*b+4:])
	return uint32(i) >= lo && uint32(i) < hi
}

// lookup returns the range of entries with this hash.
func (ix *Index) lookup(hash uint64) (lo, hi int) {
	b := hash >> (64 - ix.bits)
	lo = int(binary.LittleEndian.Uint32(ix.dir[4*b:]))
	hi = int(binary.LittleEndian.Uint32(ix.dir[4*b+4:]))
	for lo < hi {
		h, _ := ix.entry(lo)
		if h >= hash {
			break
		}
		lo++
	}
	end := lo
	for end < hi {
		h, _ := ix.entry(end)
		if h != hash {
			break
		}
		end++
	}
	return lo, end
}

// Threshold is t = w+k-1 of the index (see [Builder.Threshold]).
func (ix *Index) Threshold() int { return ix.w + ix.k - 1 }

// KeyID is the id of the key the index was built with.
func (ix *Index) KeyID() string { return ix.key.ID() }

// Entries is the number of fingerprints in the table.
func (ix *Index) Entries() int { return len(ix.ents) / entrySize }

// WriteIndex writes an index file: to a temporary file beside path,
// synced, then renamed over path (mode 0640). A server that mapped the
// old file keeps reading it, never a half-written one.
func WriteIndex(path string, data []byte) error {
	if err := fsutil.WriteAtomic(path, data, 0o640, "."+filepath.Base(path)+".tmp*"); err != nil {
		return fmt.Errorf("idm: write index %s: %w", path, err)
	}
	return nil
}
