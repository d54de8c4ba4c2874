package milter

import (
	"strings"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/policy/action"
)

// response is the SMFIR_REPLYCODE response that makes the MTA send w to
// the client byte for byte as [action.Wire.String] writes it, the bytes
// the reinjection hop sends itself: every '%' doubled (Sendmail reads the
// text as a format string; Postfix's milter8 turns "%%" back into "%"),
// lines joined by CRLF, NUL-terminated.
func response(w action.Wire) *gomilter.Response {
	if resp := exactReply(uint16(w.Code), strings.ReplaceAll(w.String(), "%", "%%")); resp != nil {
		return resp
	}
	// go-milter's formatter: right for a single line, which is what the
	// renderer gives unless a text has several.
	resp, err := gomilter.RejectWithCodeAndReason(uint16(w.Code), w.Enhanced+" "+strings.Join(w.Lines, "\n"))
	if err != nil {
		// Only a text past the milter packet size (64 KiB) gets here.
		def := action.PolicyTempFail
		if w.Permanent() {
			def = action.PolicyBlock
		}
		resp, _ = gomilter.RejectWithCodeAndReason(uint16(w.Code), w.Enhanced+" "+def.Text)
	}
	return resp
}

// exactReply is a reply-code response carrying data as it is, or nil.
//
// go-milter (v0.10.2) builds one only through its formatter
// (milterutil.FormatResponse), whose SMTPReplyTransformer writes the
// "550-5.7.1 " before each further line after checking for 6 free bytes
// in its output buffer, not for the length of that prefix: a line that
// starts where the buffer has 6 to 9 bytes left loses the end of its
// prefix ("550-5.7.1" without the space, or "550-5.7."). So go-milter is
// asked for a reply of the same length that its formatter cannot get
// wrong, lines of 'x' without an enhanced code (its prefix "550-" is 4
// bytes), and the bytes are replaced: the data of a response is the slice
// its Response method returns. When that does not hold, nil.
func exactReply(code uint16, data string) *gomilter.Response {
	const maxLine = 900 // below go-milter's 950-byte wrap
	n := len(data)
	// k lines of x: "550-" before the first, "\r\n550-" (or " ") before
	// each further one.
	k := 1
	for n-6*k+2 > k*maxLine {
		k++
	}
	xs := n - 6*k + 2
	if xs < k {
		return nil
	}
	var b strings.Builder
	for i := range k {
		if i > 0 {
			b.WriteByte('\n')
		}
		l := xs / k
		if i < xs%k {
			l++
		}
		b.WriteString(strings.Repeat("x", l))
	}
	resp, err := gomilter.RejectWithCodeAndReason(code, b.String())
	if err != nil {
		return nil
	}
	d := resp.Response().Data
	if len(d) != n+1 || d[n] != 0 {
		return nil
	}
	copy(d, data)
	if string(resp.Response().Data[:n]) != data {
		return nil
	}
	return resp
}

// smtputf8 reports whether the MAIL FROM ESMTP parameters carry SMTPUTF8
// (RFC 6531 section 3.4): only then may a reply hold non-ASCII text.
func smtputf8(esmtpArgs string) bool {
	for _, p := range strings.Fields(esmtpArgs) {
		if strings.EqualFold(p, "SMTPUTF8") {
			return true
		}
	}
	return false
}
