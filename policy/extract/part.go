package extract

import (
	"errors"
	"time"
)

// Reason says why content could not be scanned. Policies match on it.
type Reason string

const (
	Encrypted    Reason = "encrypted"
	TooLarge     Reason = "too_large"
	TooDeep      Reason = "too_deep"
	TooManyParts Reason = "too_many_parts"
	ParseError   Reason = "parse_error"
	Timeout      Reason = "timeout"
	Unsupported  Reason = "unsupported"
	// UnknownCharset is text in a charset the engine cannot decode: it
	// was scanned as bytes (UTF-8, UTF-16 or Windows-1252 by sniffing),
	// but a client that knows the charset may show text that was not read.
	UnknownCharset Reason = "unknown_charset"
)

// Kind says what a part is in the message.
type Kind int

const (
	KindHeader     Kind = iota // a header field (Subject, display names)
	KindBody                   // a text body part (text/plain, text/html)
	KindAttachment             // an attachment or an archive member
)

// Part is one segment of text taken from a message, with where it came from.
type Part struct {
	// Location is readable by a human and says where, never what:
	// `header:Subject`, `body`, `part 1.2 (text/html)`,
	// `attachment "q3.xlsx" > sheet "Payroll"`, `attachment "a.zip" > "b/c.docx"`.
	Location string
	Kind     Kind
	// MIMEType is the type detected from the bytes for attachments, the
	// declared type for text bodies.
	MIMEType string
	// Filename is the attachment or archive member name, if any.
	Filename string
	// Size is the decoded size of the part in bytes (before text extraction).
	Size int64
	// Text is UTF-8, normalised by [Normalize].
	Text string
}

// Unscannable is content that could not be read, with its location.
type Unscannable struct {
	Location string
	Reason   Reason
	// Detail is for logs (e.g. "zip: encrypted entry"); never a content value.
	Detail string
	// MIMEType is the type detected from the bytes, when known, so that a
	// policy can tell an unreadable image from an unreadable archive.
	MIMEType string
}

// HeaderField is one top-level header with its decoded value.
type HeaderField struct {
	Name  string // canonical case, as in the message
	Value string // RFC 2047 decoded, UTF-8
}

// Result is everything extracted from one message.
type Result struct {
	Header      []HeaderField
	Parts       []Part
	Unscannable []Unscannable
	// Bytes is the number of message bytes read.
	Bytes int64
	// Work is the work the scan did, in bytes examined and loop steps
	// (see meter.go): proportional to its CPU time, counted rather than
	// timed, so that cost tests and metrics can compare scans.
	Work int64
}

// Limits bound the work done on one message. A zero field means the default
// from [DefaultLimits]. Reaching a limit produces an [Unscannable] entry,
// never silent truncation.
type Limits struct {
	// MaxMessageBytes is the number of message bytes read and held; a
	// longer message is scanned up to it and reported too_large.
	MaxMessageBytes int64
	// MaxParts counts MIME entities (a multipart, each of its parts, a
	// message/rfc822 part and its body) and archive members, in all.
	MaxParts int
	// MaxDepth is the nesting depth of multiparts, forwarded messages and
	// archives: the top-level body is at depth 0, a part of a top-level
	// multipart at 1, a member of a ZIP attached there at 2.
	MaxDepth int
	// MaxArchiveMembers bounds the members read from one archive and the
	// XML members read from one document.
	MaxArchiveMembers int
	// MaxDecompressedBytes bounds the bytes produced by decompression
	// (archive members, gzip and bzip2 streams, PDF streams) per message.
	MaxDecompressedBytes int64
	// MaxExpansionRatio bounds decompressed/compressed size per member or
	// stream once its output passes 1 MiB (small text compresses well).
	MaxExpansionRatio int64
	// MaxTextBytes bounds the extracted text per message.
	MaxTextBytes int64
	// MaxScanMemory bounds the buffers one scan holds at once beyond the
	// message itself: decompressed members, gzip and bzip2 streams, PDF
	// streams, TNEF bodies. Buffers grow by what was really produced,
	// never by a size the input declares.
	MaxScanMemory int64
	// ScanTimeout is the per-message deadline of Extract.
	ScanTimeout time.Duration
}

// DefaultLimits are the defaults documented in the README and config.
func DefaultLimits() Limits {
	return Limits{
		MaxMessageBytes:      50 << 20,
		MaxParts:             1000,
		MaxDepth:             10,
		MaxArchiveMembers:    1000,
		MaxDecompressedBytes: 200 << 20,
		MaxExpansionRatio:    100,
		MaxTextBytes:         20 << 20,
		MaxScanMemory:        128 << 20,
		ScanTimeout:          20 * time.Second,
	}
}

// withDefaults replaces zero or negative fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = d.MaxMessageBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = d.MaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxArchiveMembers <= 0 {
		l.MaxArchiveMembers = d.MaxArchiveMembers
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = d.MaxDecompressedBytes
	}
	if l.MaxExpansionRatio <= 0 {
		l.MaxExpansionRatio = d.MaxExpansionRatio
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = d.MaxTextBytes
	}
	if l.MaxScanMemory <= 0 {
		l.MaxScanMemory = d.MaxScanMemory
	}
	if l.ScanTimeout <= 0 {
		l.ScanTimeout = d.ScanTimeout
	}
	return l
}

// ErrLimit is wrapped by errors that stop extraction at a limit.
var ErrLimit = errors.New("extract: limit reached")
