package milter

import (
	"strings"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/policy/action"
)

// response is the SMFIR_REPLYCODE response that makes the MTA send w to
// the client byte for byte as [action.Wire.String] writes it, the bytes
// the reinjection hop sends itself.
//
// go-milter (v0.10.2, milterutil.FormatResponse) doubles every '%'
// (Sendmail reads the text as a format string; Postfix's milter8 turns
// "%%" back into "%"), takes the enhanced code of the first line and
// writes "code-enhanced " before every further line, and wraps lines over
// 950 bytes. The renderer keeps lines well below that, '%' counted twice,
// and never leaves an empty line, so none of this changes the text.
func response(w action.Wire) *gomilter.Response {
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
