package idm

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"strings"

	"github.com/maildlp/maildlp/policy/extract"
)

// FileText returns the text of a document file as the extractor reads it
// when the file is attached to a message, so that indexing and scanning
// see the same text whatever the format (DOCX, PDF, XLSX, archives...):
// the file is wrapped as the one attachment of a message and its text
// parts joined by newlines. Content the extractor could not read is
// returned too: a document indexed without it would be matched on part of
// its text only.
func FileText(ctx context.Context, name string, data []byte, lim extract.Limits) (string, []extract.Unscannable, error) {
	var msg bytes.Buffer
	fn := mime.QEncoding.Encode("utf-8", name)
	fmt.Fprintf(&msg, "MIME-Version: 1.0\r\nContent-Type: application/octet-stream; name=%q\r\n"+
		"Content-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n", fn, fn)
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		msg.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	msg.WriteString(enc + "\r\n")
	lim.MaxMessageBytes = max(lim.MaxMessageBytes, int64(msg.Len())+1)
	res, err := extract.Extract(ctx, &msg, lim)
	if err != nil {
		return "", nil, err
	}
	var parts []string
	for _, p := range res.Parts {
		if p.Kind == extract.KindAttachment {
			parts = append(parts, p.Text)
		}
	}
	return strings.Join(parts, "\n"), res.Unscannable, nil
}
