package integration

import (
	"strings"
	"testing"
	"time"
)

// TestSendmailHeaderForms: Sendmail hands maildlp header values as the
// sender wrote them (maildlp negotiates SMFIP_HDR_LEADSPC) and applies its
// changes without reflowing them: a folded, encoded Subject is tagged in
// place with its fold kept, and a clean message whose fields have no
// space, or two, after the colon is delivered byte for byte.
func TestSendmailHeaderForms(t *testing.T) {
	r := newSendmailRig(t, "inet", DLPConfig{})

	t.Run("folded-subject", func(t *testing.T) {
		m := cleanMsg("sm-folded")
		m.Subject = "Quarterly figures\r\n\tfor the board, =?utf-8?q?caf=C3=A9?="
		m.Body += "Contains " + wordModify + "\n"
		wantAccepted(t, r.send(m))
		d := r.sink.Wait(1, 30*time.Second, withID(m.ID))[0]
		head, _, _ := strings.Cut(string(d.Data), "\r\n\r\n")
		want := "\r\nSubject: " + subjPrefix + m.Subject + "\r\n"
		if !strings.Contains(head+"\r\n", want) || d.HeaderCount("Subject") != 1 {
			t.Errorf("header block %q, want one Subject field %q", head, want)
		}
	})

	t.Run("colon-spacing", func(t *testing.T) {
		m := cleanMsg("sm-spacing")
		m.Headers = []string{"X-Tight:no space", "X-Loose:   three spaces", "X-Empty:"}
		sent := m.Bytes()
		sent = []byte(strings.Replace(string(sent), "Subject: ", "Subject:", 1))
		wantAccepted(t, SendMail(r.sm.Addr(), m.From, m.To, sent))
		checkCleanDelivery(t, r.sink, m.ID, sent)
	})
}
