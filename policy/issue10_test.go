package policy

import (
	"context"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/detect"
)

// TestIssue10MessageFacts: the verdict names the message for the incident
// store (Message-ID, subject, size) with every detected value masked.
func TestIssue10MessageFacts(t *testing.T) {
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: a@example.com\r\nTo: b@partner.example\r\n" +
		"Message-ID: <4111111111111111.x@example.com>\r\n" +
		"Subject: card 4532015112830366 for you\r\n\r\nhello\r\n"
	v := e.Evaluate(context.Background(), Message{Envelope: Envelope{MailFrom: "a@example.com", Rcpts: []string{"b@partner.example"}}, Body: strings.NewReader(msg)})
	if v.Err != nil {
		t.Fatal(v.Err)
	}
	m := v.Message
	if m.Size != int64(len(msg)) {
		t.Errorf("size %d, want %d", m.Size, len(msg))
	}
	if !strings.HasPrefix(m.Subject, "card ") || strings.Contains(m.Subject, "4532015112830366") || !strings.Contains(m.Subject, "0366") {
		t.Errorf("subject %q, want the card masked", m.Subject)
	}
	if m.MessageID == "" || !strings.Contains(m.MessageID, "example.com") || strings.Contains(m.MessageID, "4111111111111111") {
		t.Errorf("message id %q", m.MessageID)
	}
}
