package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Extract reads the whole message from r, at most lim.MaxMessageBytes of it,
// and returns its text parts and unscannable content.
//
// Limits, encrypted, broken or unsupported content and the scan deadline
// (lim.ScanTimeout from the moment r has been read, or an earlier deadline
// of ctx) end up in
// Result.Unscannable, not in the error. The error is non-nil only when
// reading r fails or ctx is cancelled by the caller.
func Extract(ctx context.Context, r io.Reader, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("extract: %w", err)
	}
	raw, over, err := readBounded(r, lim.MaxMessageBytes)
	if err != nil {
		return nil, fmt.Errorf("extract: read message: %w", err)
	}
	// The deadline counts the scan, not the time r took to deliver the
	// message (a front end streams it while the client sends it).
	sctx, cancel := context.WithTimeout(ctx, lim.ScanTimeout)
	defer cancel()
	e := &extractor{ctx: sctx, lim: lim, res: &Result{Bytes: int64(len(raw))}, raw: raw}
	if deadline, ok := sctx.Deadline(); ok {
		e.deadline = deadline
	}
	e.m = newMeter(sctx, e.deadline)
	if over {
		e.unscannable("message", TooLarge, "message exceeds max_message_bytes; only the first part was scanned", "")
	}
	e.run(raw)
	e.putSpare()
	e.res.Work = e.m.total()
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("extract: %w", err)
	}
	return e.res, nil
}

// readBounded reads r up to max bytes; over reports that r had more.
func readBounded(r io.Reader, max int64) (data []byte, over bool, err error) {
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok {
		buf.Grow(int(min(int64(l.Len()), max)) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	data = buf.Bytes()
	if n > max {
		return data[:max], true, nil
	}
	return data, false, nil
}

// extractor holds the state of one Extract call.
type extractor struct {
	ctx      context.Context
	deadline time.Time
	lim      Limits
	res      *Result
	// raw is the message as read: this scan's own copy, never recycled,
	// so that text taken from it as it is can be a view of it instead of
	// a copy (see textView). Only a large base64 part is written to, by
	// its own decoding (decodeBody), which nothing reads again after.
	raw []byte
	m   *meter // work and deadline of this scan; see meter.go
	// rereads counts the entities being read whose body is read again
	// with another transfer encoding after its content (otherEncodings):
	// while one is, nothing below it is decoded in place.
	rereads int

	parts        int   // MIME parts and archive members seen
	textBytes    int64 // text bytes returned
	decompressed int64 // bytes produced by decompression
	held         int64 // buffer bytes held now, bounded by MaxScanMemory (memory.go)
	stopped      bool  // a message-wide limit ended the walk
	textFull     bool  // MaxTextBytes reached

	spares *spares // decompression buffers to reuse (memory.go)
}

// messageHook, when set by a test, runs before the walk.
var messageHook func()

// run walks the message and recovers from a panic anywhere in it.
func (e *extractor) run(raw []byte) {
	defer func() {
		if v := recover(); v != nil {
			e.unscannable("message", ParseError, fmt.Sprintf("internal error: %v", v), "")
		}
	}()
	if messageHook != nil {
		messageHook()
	}
	e.message(raw, "", 0, true)
}

// unscannable records content that could not be read.
func (e *extractor) unscannable(loc string, reason Reason, detail, mimeType string) {
	if n := len(e.res.Unscannable); n > 0 && e.res.Unscannable[n-1].Location == loc && e.res.Unscannable[n-1].Reason == reason {
		return // said already
	}
	e.res.Unscannable = append(e.res.Unscannable, Unscannable{
		Location: loc, Reason: reason, Detail: detail, MIMEType: mimeType,
	})
}

// alive reports whether the walk may go on; it records a timeout or a
// cancellation the first time it sees one.
func (e *extractor) alive(loc string) bool {
	if e.stopped {
		return false
	}
	err := e.ctx.Err()
	if err == nil && e.m.done() {
		err = context.DeadlineExceeded
	}
	if err != nil {
		e.stopped = true
		if errors.Is(err, context.DeadlineExceeded) {
			e.unscannable("message", Timeout, "scan deadline exceeded (scan_timeout) at "+loc+"; the rest was not scanned", "")
		}
		return false
	}
	return true
}

// enter counts one more part (MIME entity or archive member) at depth and
// reports whether it may be read. It records the limit it hits.
func (e *extractor) enter(loc string, depth int) bool {
	if !e.alive(loc) {
		return false
	}
	e.parts++
	if e.parts > e.lim.MaxParts {
		e.stopped = true
		e.unscannable(loc, TooManyParts, fmt.Sprintf("more than %d parts (max_parts); the rest was not scanned", e.lim.MaxParts), "")
		return false
	}
	if depth > e.lim.MaxDepth {
		e.unscannable(loc, TooDeep, fmt.Sprintf("nested deeper than %d (max_depth)", e.lim.MaxDepth), "")
		return false
	}
	return true
}

// emit normalises text and adds it as a part, within MaxTextBytes. An
// attachment without text is still listed (with empty text), so that
// conditions on file type, name and size see it.
func (e *extractor) emit(p Part, text string) {
	e.m.step(len(text)) // Normalize reads each byte once or twice
	e.add(p, Normalize(text))
}

// emitASCII is emit for text known to be ASCII, which Normalize returns
// unchanged. The work is counted as emit counts it.
func (e *extractor) emitASCII(p Part, text string) {
	e.m.step(len(text))
	e.add(p, text)
}

// add records the normalized text of part p within max_text_bytes.
func (e *extractor) add(p Part, text string) {
	if isBlank(text) {
		if p.Kind == KindAttachment {
			e.res.Parts = append(e.res.Parts, p)
		}
		return
	}
	if e.textFull {
		e.unscannable(p.Location, TooLarge, "extracted text exceeds max_text_bytes", p.MIMEType)
		return
	}
	room := e.lim.MaxTextBytes - e.textBytes
	if int64(len(text)) > room {
		cut := int(room)
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
		e.textFull = true
		e.unscannable(p.Location, TooLarge, "extracted text exceeds max_text_bytes; the rest was not scanned", p.MIMEType)
	}
	e.textBytes += int64(len(text))
	if text == "" {
		return
	}
	p.Text = text
	e.res.Parts = append(e.res.Parts, p)
}

// isBlank reports whether s holds only ASCII white space.
func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n', '\f', '\v':
		default:
			return false
		}
	}
	return true
}

// join builds a nested location: `attachment "a.zip" > "b.txt"`.
func join(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + " > " + local
}
