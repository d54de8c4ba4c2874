// Package extract turns one RFC 5322 message into text segments ([Part]),
// each with a location a human can read, and a list of content that could
// not be read ([Unscannable]) with the reason.
//
// [Extract] walks the MIME tree (RFC 2045-2049) with header and parameter
// decoding from go-message and mime (RFC 2047, RFC 2231), undoes transfer
// encodings (base64 tolerant of junk, quoted-printable, uuencode), converts
// charsets to UTF-8 (golang.org/x/text; undeclared 8-bit text is detected,
// never dropped), turns HTML into text, recurses into message/rfc822 parts,
// and reads attachments by the type detected from their bytes: text, CSV,
// HTML, ZIP (zip64 too), gzip, bzip2, tar, DOCX, XLSX, PPTX, ODT, ODS,
// ODP, PDF, RTF and TNEF (winmail.dat). HTML gives its visible text, then
// its hidden text, then the text of its markup (comments, scripts, styles,
// attribute values). An Office document gives its text, then every other
// member of its container read as an archive member. Images, legacy Office
// formats and other binary types are reported unsupported; S/MIME, PGP, encrypted
// ZIP members, PDFs and Office documents are reported encrypted.
//
// Locations read like `header:Subject`, `body`, `part 1.2 (text/html)`,
// `attachment "q3.xlsx" > sheet "Payroll"` and
// `attachment "a.zip" > "b/c.docx"`.
//
// Every part of the work is bounded by [Limits]. Reaching a limit, meeting
// encrypted, broken or unsupported content, or running out of time adds an
// [Unscannable] entry with a [Reason]; nothing is truncated silently.
// Malformed MIME falls back to scanning the raw text. Memory is bounded by
// the limits: the message is held up to MaxMessageBytes, decompressed data
// up to MaxDecompressedBytes, and text up to MaxTextBytes.
//
// All text is passed through [Normalize] (NFKC, format characters removed,
// space separators made plain spaces) before it is returned.
package extract
