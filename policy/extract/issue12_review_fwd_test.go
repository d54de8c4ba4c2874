package extract

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

// TestIssue12ReviewForwardedMessageSecondEncoding: a forwarded message
// (message/rfc822) with two Content-Transfer-Encoding fields is read
// with each, as any other part is (otherEncodings): a reader that takes
// the other field shows the forwarded text, and so must the scan.
func TestIssue12ReviewForwardedMessageSecondEncoding(t *testing.T) {
	inner := "Subject: fwd\r\n\r\ncard 4111111111111111 exp 12/29\r\n"
	for _, tc := range []struct{ name, fields, body string }{
		{"8bit then base64", "Content-Transfer-Encoding: 8bit\r\nContent-Transfer-Encoding: base64\r\n", base64.StdEncoding.EncodeToString([]byte(inner)) + "\r\n"},
		{"base64 then 8bit", "Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: 8bit\r\n", inner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := "From: a@example.com\r\nTo: b@example.org\r\nSubject: s\r\nContent-Type: message/rfc822\r\n" + tc.fields + "\r\n" + tc.body
			res, err := Extract(context.Background(), strings.NewReader(msg), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Parts {
				if strings.Contains(p.Text, "4111111111111111") {
					return
				}
			}
			var locs []string
			for _, p := range res.Parts {
				locs = append(locs, p.Location)
			}
			t.Fatalf("the forwarded text as the other encoding reads it is not scanned; parts: %q", locs)
		})
	}
}
