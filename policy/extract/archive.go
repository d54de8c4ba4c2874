package extract

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/text/encoding/charmap"
)

// ratioFloor is the output size below which MaxExpansionRatio is not
// applied: small files (XML, CSV) legitimately compress very well; bombs
// are about large outputs.
const ratioFloor = 1 << 20

// errLimitReached is returned by inflate after it recorded the limit.
var errLimitReached = fmt.Errorf("%w", ErrLimit)

// inflate reads decompressed data from r, whose compressed size is csize,
// within MaxDecompressedBytes (for the whole message), MaxExpansionRatio
// and MaxScanMemory. A limit is recorded at loc and returned as
// errLimitReached with no data; corrupt data returns what was read and the
// error, for the caller to report.
//
// hint is the size the input declares. It is never used to allocate: the
// buffer starts from the compressed size and grows by what r produces.
// The returned buffer is held from the scan's memory budget until the
// caller releases cap(data).
func (e *extractor) inflate(r io.Reader, csize, hint int64, loc, typ string) ([]byte, error) {
	room := max(e.lim.MaxDecompressedBytes-e.decompressed, 0)
	ratioCap := max(max(csize, 1)*e.lim.MaxExpansionRatio, ratioFloor)
	limit := min(room, ratioCap)
	start := int(min(4*max(csize, 0), firstChunk)) // typical for text
	if hint > 0 {
		start = int(min(int64(start), hint+1))
	}
	buf, err := e.readAll(r, limit, start, loc, typ)
	if err == errMemory {
		return nil, errLimitReached
	}
	n := int64(len(buf))
	e.decompressed += min(n, limit)
	if n > limit {
		e.release(cap(buf))
		if ratioCap < room {
			e.unscannable(loc, TooLarge, fmt.Sprintf("expands more than %d times (max_expansion_ratio)", e.lim.MaxExpansionRatio), typ)
		} else {
			e.unscannable(loc, TooLarge, "decompressed data exceeds max_decompressed_bytes", typ)
		}
		return nil, errLimitReached
	}
	return buf, err
}

// inflateReport is inflate for archive members: corruption is recorded as
// a parse error and what could be read is still scanned. The caller
// releases cap(data) when it has read the member.
func (e *extractor) inflateReport(r io.Reader, csize, hint int64, loc, typ string) ([]byte, bool) {
	data, err := e.inflate(r, csize, hint, loc, typ)
	switch {
	case err == errLimitReached:
		return nil, false
	case err != nil:
		e.unscannable(loc, ParseError, "corrupt compressed data: "+err.Error(), typ)
		return data, len(data) > 0
	}
	return data, true
}

// zip reads a ZIP archive (zip64 included); OOXML and ODF documents are
// read as documents.
func (e *extractor) zip(data []byte, src source, detected string, depth int) {
	// archive/zip builds every directory entry before we can count them:
	// refuse directories far beyond the limit from the end record.
	if n := zipEntries(data); n > 16*int64(e.lim.MaxArchiveMembers) {
		e.unscannable(src.loc, TooManyParts, fmt.Sprintf("%d members, more than max_archive_members %d", n, e.lim.MaxArchiveMembers), detected)
		return
	}
	if !e.m.step(len(data)) { // the directory and the end record search
		e.alive(src.loc)
		return
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		e.container(data, src, detected)
		e.unscannable(src.loc, ParseError, "zip: "+err.Error(), detected)
		return
	}
	// The archive's own comment is shown by every archive tool; an
	// Office document can carry one as well.
	e.comment(src.loc, zr.Comment)
	if kind := officeKind(zr); kind != "" {
		held := e.held
		e.office(zr, data, kind, src, depth)
		e.held = held // the document's member buffers are no longer used
		return
	}
	e.container(data, src, detected)
	files := zr.File
	if len(files) > e.lim.MaxArchiveMembers {
		e.unscannable(src.loc, TooManyParts, fmt.Sprintf("more than %d members (max_archive_members); the rest was not scanned", e.lim.MaxArchiveMembers), detected)
		files = files[:e.lim.MaxArchiveMembers]
	}
	for _, f := range files {
		if e.stopped || !e.m.step(len(f.Name)+46) {
			e.alive(src.loc)
			return
		}
		e.memberName(src.loc, f.Name)
		e.comment(src.loc, f.Comment)
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		loc := join(src.loc, quoteName(f.Name))
		if !e.enter(loc, depth+1) {
			continue
		}
		if f.Flags&0x1 != 0 || f.Method == 99 {
			e.unscannable(loc, Encrypted, "zip: encrypted member", "")
			continue
		}
		if f.UncompressedSize64 > uint64(e.lim.MaxDecompressedBytes-e.decompressed) {
			e.unscannable(loc, TooLarge, "decompressed data exceeds max_decompressed_bytes", "")
			continue
		}
		rc, err := openMember(data, f)
		if err != nil {
			reason := ParseError
			if errors.Is(err, zip.ErrAlgorithm) {
				reason = Unsupported
			}
			e.unscannable(loc, reason, "zip: "+err.Error(), "")
			continue
		}
		// The compressed size is the header's word: the bytes the
		// archive really has after the member's offset bound it.
		csize := int64(f.CompressedSize64)
		if off, err := f.DataOffset(); err == nil && off >= 0 && off <= int64(len(data)) {
			csize = min(csize, int64(len(data))-off)
		}
		body, ok := e.inflateReport(rc, csize, int64(f.UncompressedSize64), loc, "")
		rc.Close()
		if ok {
			e.checkCRC(f, body, loc, "")
			e.content(body, source{loc: loc, name: f.Name, kind: KindAttachment}, depth+1)
		}
		e.recycle(body)
	}
}

// container lists an archive as an attachment of its own, with no text,
// so that conditions on its detected type, name and size see it as well
// as its members (which keep their own locations below it).
func (e *extractor) container(data []byte, src source, typ string) {
	e.emit(Part{Location: src.loc, Kind: KindAttachment, MIMEType: typ, Filename: src.name, Size: int64(len(data))}, "")
}

// gzip reads a gzip stream; its content is read as a member named after
// the name in the gzip header or the attachment name without ".gz".
func (e *extractor) gzip(data []byte, src source, depth int) {
	e.container(data, src, "application/gzip")
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		e.unscannable(src.loc, ParseError, "gzip: "+err.Error(), "application/gzip")
		return
	}
	name := zr.Name
	if name == "" {
		name = strings.TrimSuffix(strings.TrimSuffix(src.name, ".gz"), ".GZ")
		if strings.HasSuffix(strings.ToLower(name), ".tgz") {
			name = name[:len(name)-4] + ".tar"
		}
		if name == "" || name == src.name {
			name = "content"
		}
	}
	e.memberName(src.loc, name, zr.Name)
	e.comment(src.loc, zr.Comment)
	loc := join(src.loc, quoteName(name))
	if !e.enter(loc, depth+1) {
		return
	}
	body, ok := e.inflateReport(zr, int64(len(data)), gzipSize(data), loc, "application/gzip")
	if ok {
		e.content(body, source{loc: loc, name: name, kind: KindAttachment}, depth+1)
	}
	e.recycle(body)
}

// bzip2 reads a bzip2 stream like gzip, named after the attachment name
// without ".bz2".
func (e *extractor) bzip2(data []byte, src source, depth int) {
	e.container(data, src, "application/x-bzip2")
	name := strings.TrimSuffix(strings.TrimSuffix(src.name, ".bz2"), ".BZ2")
	if strings.HasSuffix(strings.ToLower(name), ".tbz") {
		name = name[:len(name)-4] + ".tar"
	}
	if name == "" || name == src.name {
		name = "content"
	}
	loc := join(src.loc, quoteName(name))
	if !e.enter(loc, depth+1) {
		return
	}
	body, ok := e.inflateReport(bzip2.NewReader(bytes.NewReader(data)), int64(len(data)), 0, loc, "application/x-bzip2")
	if ok {
		e.content(body, source{loc: loc, name: name, kind: KindAttachment}, depth+1)
	}
	e.recycle(body)
}

// tar reads a tar archive's regular files.
func (e *extractor) tar(data []byte, src source, depth int) {
	e.container(data, src, "application/x-tar")
	tr := tar.NewReader(bytes.NewReader(data))
	for n := 0; ; {
		if e.stopped || !e.m.step(512) { // a header block
			e.alive(src.loc)
			return
		}
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			e.unscannable(src.loc, ParseError, "tar: "+err.Error(), "application/x-tar")
			return
		}
		e.memberName(src.loc, h.Name, h.Linkname)
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		n++
		if n > e.lim.MaxArchiveMembers {
			e.unscannable(src.loc, TooManyParts, fmt.Sprintf("more than %d members (max_archive_members); the rest was not scanned", e.lim.MaxArchiveMembers), "application/x-tar")
			return
		}
		loc := join(src.loc, quoteName(h.Name))
		if !e.enter(loc, depth+1) {
			continue
		}
		if h.Size > int64(len(data)) {
			e.unscannable(loc, ParseError, "tar: member larger than the archive", "")
			continue
		}
		// The header's size is a claim: the buffer grows by the bytes
		// the archive really holds, within the scan's memory budget.
		body, err := e.readAll(io.LimitReader(tr, h.Size), h.Size, firstChunk, loc, "")
		switch {
		case err == errMemory:
			continue
		case err == nil && int64(len(body)) < h.Size:
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			e.unscannable(loc, ParseError, "tar: "+err.Error(), "")
		} else {
			e.content(body, source{loc: loc, name: h.Name, kind: KindAttachment}, depth+1)
		}
		e.recycle(body)
	}
}

// ole handles OLE2 compound files: encrypted OOXML documents are stored in
// one (an "EncryptedPackage" stream); legacy Office formats are not read.
func (e *extractor) ole(data []byte, src source, detected string) {
	e.m.step(len(data))
	if bytes.Contains(data, utf16le("EncryptedPackage")) {
		e.unscannable(src.loc, Encrypted, "encrypted Office document", detected)
		return
	}
	// Legacy Word, Excel and PowerPoint files keep most text as plain
	// 8-bit or UTF-16 runs: a string scan finds it, but not numbers stored
	// as binary values nor text in compressed streams, so the file is
	// still reported unsupported.
	e.unscannable(src.loc, Unsupported, detected+": legacy Office format, text found by a string scan only", detected)
	e.emit(Part{Location: src.loc, Kind: KindAttachment, MIMEType: detected, Filename: src.name, Size: int64(len(data))}, binaryStrings(data, e.m))
	e.alive(src.loc)
}

// binaryStrings returns the runs of printable text in binary data, like
// strings(1): at least 4 characters of UTF-16LE, or 6 of 8-bit text, one
// run a line. A position is looked at again only after a run too short to
// keep (under 8 bytes), so the work is linear; it is counted on m, and the
// reading ends at the deadline.
func binaryStrings(b []byte, m *meter) string {
	out := make([]byte, 0, len(b)/8)
	printable := func(c byte) bool { return c >= 0x20 && c < 0x7F || c == '\t' || c >= 0xA0 }
	counted := 0
	defer func() { m.step(len(b) - counted) }()
	for i := 0; i < len(b); {
		if i-counted >= 4<<10 {
			if !m.step(8 * (i - counted)) {
				break
			}
			counted = i
		}
		// UTF-16LE run: printable, 0, printable, 0, ...
		j := i
		for j+1 < len(b) && b[j+1] == 0 && printable(b[j]) {
			j += 2
		}
		if (j-i)/2 >= 4 {
			for k := i; k < j; k += 2 {
				out = utf8.AppendRune(out, rune(b[k]))
			}
			out = append(out, '\n')
			i = j
			continue
		}
		// 8-bit run
		j = i
		for j < len(b) && printable(b[j]) {
			j++
		}
		if j+2 < len(b) && j > i && b[j] == 0 && printable(b[j+1]) && b[j+2] == 0 {
			j-- // the last character starts a UTF-16 run
		}
		if j-i >= 6 {
			s, err := charmap.Windows1252.NewDecoder().Bytes(b[i:j])
			if err == nil {
				out = append(out, s...)
				out = append(out, '\n')
			}
			i = j
			continue
		}
		i++
	}
	return string(out)
}

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

func zipReader(data []byte) (*zip.Reader, error) {
	return zip.NewReader(bytes.NewReader(data), int64(len(data)))
}

// zipEntries reads the number of entries from the end of central directory
// record (or its zip64 form), or -1.
func zipEntries(data []byte) int64 {
	tail := data[max(0, len(data)-(65535+22)):]
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 || i+22 > len(tail) {
		return -1
	}
	n := int64(binary.LittleEndian.Uint16(tail[i+10:]))
	if n != 0xFFFF {
		return n
	}
	j := bytes.LastIndex(tail[:i], []byte("PK\x06\x06"))
	if j < 0 || j+40 > i {
		return n
	}
	return int64(min(binary.LittleEndian.Uint64(tail[j+32:]), 1<<40))
}

// openMember opens a ZIP member. Deflated and stored members are read
// straight from the archive bytes: flate then reads a bytes.Reader byte by
// byte instead of going through bufio, about a quarter faster. The caller
// checks the CRC (checkCRC). A compressed size past the end of the archive
// is a lie: a deflate stream ends by itself, so it is read up to the end of
// the archive, and a stored member up to there.
func openMember(data []byte, f *zip.File) (io.ReadCloser, error) {
	off, err := f.DataOffset()
	end := off + int64(f.CompressedSize64)
	if err != nil || off < 0 || off > int64(len(data)) || end < off || f.Flags&0x1 != 0 {
		return f.Open()
	}
	end = min(end, int64(len(data)))
	switch f.Method {
	case zip.Deflate:
		return newFlateReader(data[off:end]), nil
	case zip.Store:
		return io.NopCloser(bytes.NewReader(data[off:end])), nil
	}
	return f.Open()
}

// flatePool keeps inflaters for reuse: each holds a 32 KiB window and
// Huffman tables that would otherwise be allocated per member.
var flatePool sync.Pool

// pooledFlate is an inflater that goes back to flatePool when closed.
type pooledFlate struct {
	io.ReadCloser
	br     bytes.Reader
	closed bool
}

// Close returns the inflater to the pool once, however often it is called.
func (p *pooledFlate) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.ReadCloser.Close()
	p.br.Reset(nil)
	flatePool.Put(p)
	return err
}

// newFlateReader inflates raw deflate data from b with a pooled inflater.
// The caller must Close it, and not use it after.
func newFlateReader(b []byte) io.ReadCloser {
	if p, ok := flatePool.Get().(*pooledFlate); ok {
		p.br.Reset(b)
		if p.ReadCloser.(flate.Resetter).Reset(&p.br, nil) == nil {
			p.closed = false
			return p
		}
	}
	p := &pooledFlate{}
	p.br.Reset(b)
	p.ReadCloser = flate.NewReader(&p.br)
	return p
}

// gzipSize returns the uncompressed size a single-member gzip stream
// records in its trailer (modulo 2^32), for presizing only, or 0.
func gzipSize(data []byte) int64 {
	if len(data) < 18 {
		return 0
	}
	return int64(binary.LittleEndian.Uint32(data[len(data)-4:]))
}

// checkCRC reports a member whose data does not match its CRC-32; what
// was read is still scanned.
func (e *extractor) checkCRC(f *zip.File, body []byte, loc, typ string) {
	switch {
	case uint64(len(body)) != f.UncompressedSize64:
		e.unscannable(loc, ParseError, fmt.Sprintf("zip: header declares %d bytes, member holds %d", f.UncompressedSize64, len(body)), typ)
	case crc32.ChecksumIEEE(body) != f.CRC32:
		e.unscannable(loc, ParseError, "zip: checksum error", typ)
	}
	e.m.step(len(body))
}
