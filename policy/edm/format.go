package edm

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"unsafe"
)

// The index file, little-endian, every section aligned to 8 bytes:
//
//	header   64 bytes: magic, version, meta length, key id, filter seed
//	         and block length, supporting columns, tags, rows
//	meta     JSON: name, columns (name, class, role, value shape), counts;
//	         never a value
//	filter   3 * block length fingerprints of the xor filter over the
//	         SipHash keys of the anchor values
//	tags     sorted 64-bit HMAC-SHA256 tags of the anchor values
//	refs     per tag: row << 5 | column (the row postings)
//	support  per row, per supporting column: a 32-bit SipHash tag (0: empty)
//	crc      CRC-32C of everything before
//
// A reader checks every length against the file size, the CRC, the key
// id, that the tags are sorted and every posting in range, before it uses
// the index: a corrupt or truncated file, or one built with another key,
// is refused with an error that says which.

const (
	magic      = "MDLPEDM\x00"
	version    = 1
	headerSize = 64
	maxColumns = 32
	maxRows    = 1 << 27
	colBits    = 5
)

// Errors of an index that cannot be used.
var (
	ErrCorrupt  = errors.New("edm: corrupt index")
	ErrWrongKey = errors.New("edm: index built with another key")
	ErrVersion  = errors.New("edm: unsupported index version")
)

// Column describes one column: its name, class and role, and the shape
// of its values learnt at index time (used to skip text that cannot be
// one of them).
type Column struct {
	Name      string `json:"name"`
	Class     string `json:"class"`
	Primary   bool   `json:"primary,omitempty"`
	MinLen    int    `json:"min_len,omitempty"`    // normalised length, anchor classes
	MaxLen    int    `json:"max_len,omitempty"`    //
	MaxTokens int    `json:"max_tokens,omitempty"` // words, name class
	Letters   bool   `json:"letters,omitempty"`    // alnum: some value has no digit
	Values    int    `json:"values"`               // non-empty cells
	Weak      int    `json:"weak,omitempty"`       // anchor values in too many rows to anchor one

	class Class
}

// Meta is the description of an index; it holds no value.
type Meta struct {
	Name    string   `json:"name"`
	Rows    int      `json:"rows"`
	Columns []Column `json:"columns"`
	Skipped int      `json:"skipped_rows,omitempty"`
}

// Index is an opened index: a view of the file's bytes (a memory
// mapping, see Open) checked against its key.
type Index struct {
	Meta    Meta
	key     *Key
	filter  xorFilter
	tags    []uint64
	refs    []uint32
	support []uint32
	nsup    int   // supporting columns
	supCol  []int // supporting column index -> column
	colSup  []int // column -> supporting index (-1: anchor column)
	data    []byte
	unmap   func()
}

func pad8(n int) int { return (n + 7) &^ 7 }

// encode lays out an index.
func encode(key *Key, meta *Meta, f *xorFilter, tags []uint64, refs []uint32, support []uint32, nsup int) ([]byte, error) {
	mj, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	size := headerSize + pad8(len(mj)) + pad8(len(f.fp)) + 8*len(tags) + pad8(4*len(refs)) + 4*len(support) + 4
	b := make([]byte, size)
	le := binary.LittleEndian
	copy(b, magic)
	le.PutUint32(b[8:], version)
	le.PutUint32(b[12:], uint32(len(mj)))
	copy(b[16:24], key.id[:])
	le.PutUint64(b[24:], f.seed)
	le.PutUint32(b[32:], f.blockLength)
	le.PutUint32(b[36:], uint32(nsup))
	le.PutUint64(b[40:], uint64(len(tags)))
	le.PutUint32(b[48:], uint32(meta.Rows))
	off := headerSize
	copy(b[off:], mj)
	off += pad8(len(mj))
	copy(b[off:], f.fp)
	off += pad8(len(f.fp))
	for _, t := range tags {
		le.PutUint64(b[off:], t)
		off += 8
	}
	for i, r := range refs {
		le.PutUint32(b[off+4*i:], r)
	}
	off += pad8(4 * len(refs))
	for i, s := range support {
		le.PutUint32(b[off+4*i:], s)
	}
	off += 4 * len(support)
	le.PutUint32(b[off:], crc32.Checksum(b[:off], castagnoli))
	return b, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Parse checks data as an index built with key and returns a view of it.
// data must stay unchanged while the index is used. key nil skips the key
// check (inspect).
func Parse(data []byte, key *Key) (*Index, error) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return nil, errors.New("edm: indexes are read on little-endian machines only")
	}
	le := binary.LittleEndian
	if len(data) < headerSize+4 || string(data[:8]) != magic {
		return nil, fmt.Errorf("%w: not an edm index", ErrCorrupt)
	}
	if v := le.Uint32(data[8:]); v != version {
		return nil, fmt.Errorf("%w %d (this build reads %d; rebuild the index)", ErrVersion, v, version)
	}
	body := len(data) - 4
	if crc32.Checksum(data[:body], castagnoli) != le.Uint32(data[body:]) {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or damaged file)", ErrCorrupt)
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(data)))%8 != 0 {
		// A caller's unaligned buffer is copied (a mapping is aligned).
		buf := make([]uint64, (len(data)+7)/8)
		aligned := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), len(data))
		copy(aligned, data)
		data = aligned
	}
	x := &Index{data: data}
	if key != nil {
		if string(data[16:24]) != string(key.id[:]) {
			return nil, fmt.Errorf("%w (index key id %x, key file id %s)", ErrWrongKey, data[16:24], key.ID())
		}
		x.key = key
	}
	metaLen := uint64(le.Uint32(data[12:]))
	x.filter.seed = le.Uint64(data[24:])
	x.filter.blockLength = le.Uint32(data[32:])
	nsup := uint64(le.Uint32(data[36:]))
	ntags := le.Uint64(data[40:])
	rows := uint64(le.Uint32(data[48:]))
	if nsup > maxColumns || rows > maxRows || ntags > uint64(body) || metaLen > uint64(body) || uint64(x.filter.blockLength) > uint64(body) {
		return nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	p8 := func(n uint64) uint64 { return (n + 7) &^ 7 }
	need := headerSize + p8(metaLen) + p8(3*uint64(x.filter.blockLength)) + 8*ntags + p8(4*ntags) + 4*rows*nsup
	if need != uint64(body) {
		return nil, fmt.Errorf("%w: size %d, header says %d", ErrCorrupt, body, need)
	}
	off := uint64(headerSize)
	if err := json.Unmarshal(data[off:off+metaLen], &x.Meta); err != nil {
		return nil, fmt.Errorf("%w: meta: %v", ErrCorrupt, err)
	}
	off += p8(metaLen)
	if err := x.checkMeta(rows, nsup); err != nil {
		return nil, err
	}
	x.filter.fp = data[off : off+3*uint64(x.filter.blockLength)]
	off += p8(3 * uint64(x.filter.blockLength))
	aligned := data
	if ntags > 0 {
		x.tags = unsafe.Slice((*uint64)(unsafe.Pointer(&aligned[off])), ntags)
	}
	off += 8 * ntags
	if ntags > 0 {
		x.refs = unsafe.Slice((*uint32)(unsafe.Pointer(&aligned[off])), ntags)
	}
	off += p8(4 * ntags)
	if rows*nsup > 0 {
		x.support = unsafe.Slice((*uint32)(unsafe.Pointer(&aligned[off])), rows*nsup)
	}
	if !slices.IsSorted(x.tags) {
		return nil, fmt.Errorf("%w: tag table not sorted", ErrCorrupt)
	}
	for _, r := range x.refs {
		row, col := uint64(r>>colBits), int(r&(1<<colBits-1))
		if row >= rows || col >= len(x.Meta.Columns) || !x.Meta.Columns[col].Primary {
			return nil, fmt.Errorf("%w: posting out of range", ErrCorrupt)
		}
	}
	return x, nil
}

// checkMeta checks the meta against the header and fills the column maps.
func (x *Index) checkMeta(rows, nsup uint64) error {
	m := &x.Meta
	if uint64(m.Rows) != rows || len(m.Columns) == 0 || len(m.Columns) > maxColumns {
		return fmt.Errorf("%w: meta does not match the header", ErrCorrupt)
	}
	seen := map[string]bool{}
	x.colSup = make([]int, len(m.Columns))
	for i := range m.Columns {
		c := &m.Columns[i]
		cl, err := ParseClass(c.Class)
		if err != nil || seen[c.Name] || c.Primary && !cl.anchorable() || c.MinLen < 0 || c.MaxLen > maxValueLen || c.MinLen > c.MaxLen || c.MaxTokens < 0 || c.MaxTokens > maxNameTokens {
			return fmt.Errorf("%w: bad column %d", ErrCorrupt, i)
		}
		seen[c.Name] = true
		c.class = cl
		x.colSup[i] = -1
		if !c.Primary {
			x.colSup[i] = len(x.supCol)
			x.supCol = append(x.supCol, i)
		}
	}
	if uint64(len(x.supCol)) != nsup {
		return fmt.Errorf("%w: supporting columns do not match the header", ErrCorrupt)
	}
	x.nsup = len(x.supCol)
	return nil
}

// lookup returns the postings of an anchor tag.
func (x *Index) lookup(tag uint64) []uint32 {
	i, ok := slices.BinarySearch(x.tags, tag)
	if !ok {
		return nil
	}
	j := i + 1
	for j < len(x.tags) && x.tags[j] == tag {
		j++
	}
	return x.refs[i:j]
}

// Size is the index's size in bytes.
func (x *Index) Size() int { return len(x.data) }

// KeyID is the id of the key the index was built with.
func (x *Index) KeyID() string { return fmt.Sprintf("%x", x.data[16:24]) }

// Anchors is the number of anchor postings.
func (x *Index) Anchors() int { return len(x.tags) }

// Close releases the mapping; the index must not be used afterwards.
func (x *Index) Close() {
	if x.unmap != nil {
		x.unmap()
		x.unmap = nil
	}
}
