package extract

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

// isB64 reports a byte a base64 reading decodes (the URL-safe '-' and
// '_' too); everything else but '=' is skipped.
func isB64(c byte) bool { return b64[c] != 0xFF }

// TestIssue12ReviewOtherEncodingAfterInPlace: an attachment with two
// Content-Transfer-Encoding fields is read with each (otherEncodings),
// from the bytes as they arrived. When its first reading is a forwarded
// message whose own base64 part is large enough to be decoded in place,
// that decoding must not change the bytes the second reading reads: here
// the base64 reading of the attachment (what a client that takes the
// second field shows) holds a card number that only that reading shows.
func TestIssue12ReviewOtherEncodingAfterInPlace(t *testing.T) {
	const card = "4556737586899855"
	inner := "From: a@example.com\r\nTo: b@example.org\r\nSubject: s\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	n := 0
	for i := 0; i < len(inner); i++ {
		if isB64(inner[i]) {
			n++
		}
	}
	if n%4 == 0 {
		inner = strings.Replace(inner, "Subject: s", "Subject: ss", 1)
		n++
	}
	// The attachment's base64 reading is aligned after the inner header
	// and its filler, the inner part's own reading is not: only the
	// attachment's base64 reading shows the text.
	fill := strings.Repeat("A", 4-n%4)
	var text strings.Builder
	for text.Len() < 900<<10 {
		text.WriteString("Quarterly figures, nothing to see here, row after row of them.\r\n")
	}
	text.WriteString("card " + card + " exp 12/29\r\n")
	for text.Len()%3 != 0 {
		text.WriteByte('.')
	}
	enc := base64.StdEncoding.EncodeToString([]byte(text.String()))
	var body strings.Builder
	body.WriteString(inner + fill)
	for i := 0; i < len(enc); i += 76 {
		body.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	if body.Len()-len(inner) < inPlaceDecodeBytes {
		t.Fatalf("inner base64 part of %d bytes: not decoded in place", body.Len()-len(inner))
	}
	msg := "From: a@example.com\r\nTo: b@example.org\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--XX\r\nContent-Type: application/octet-stream; name=fwd.eml\r\nContent-Disposition: attachment; filename=fwd.eml\r\n" +
		"Content-Transfer-Encoding: 8bit\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body.String() + "--XX--\r\n"
	res, err := Extract(context.Background(), strings.NewReader(msg), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Parts {
		if strings.Contains(p.Text, card) {
			return
		}
	}
	var locs []string
	for _, p := range res.Parts {
		locs = append(locs, p.Location)
	}
	t.Fatalf("the card of the attachment's base64 reading was not scanned; parts %q, unscannable %+v", locs, res.Unscannable)
}
