package quarantine

import (
	"strings"
	"testing"
	"time"
)

// TestReviewMailqSenderLikeHeading: mailq cuts a long sender to its
// column width, so a sender chooses how its job line ends. A job line
// ending like a heading (" is empty", "(2 requests)") is still a job:
// skipping it hid the message and gave its recipients to the job before,
// or, first in the listing, failed the whole listing (no message could
// be released or deleted).
func TestReviewMailqSenderLikeHeading(t *testing.T) {
	listing := `		/var/spool/mqueue (3 requests)
-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------
5B3Lr1Ab012340     1234 Fri Mar 20 15:46 <"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa is empty
     QUARANTINE: held by data protection policy PCI
                                         <bob@example.net>
5B3Lr1Ab012341     1234 Fri Mar 20 15:46 <"aaaaaaaaaaaaaaaaaaaaaaaaa (2 requests)
                                         <carol@example.net>
5B3Lr1Ab012342     1234 Fri Mar 20 15:46 <"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa (1 request)
                                         <dave@example.net>
		Total requests: 3
`
	now := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	got, err := ParseMailq(strings.NewReader(listing), 1<<20, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"5B3Lr1Ab012340": "bob@example.net", "5B3Lr1Ab012341": "carol@example.net", "5B3Lr1Ab012342": "dave@example.net"}
	if len(got) != len(want) {
		t.Fatalf("ParseMailq = %+v, want 3 jobs", got)
	}
	for _, m := range got {
		if len(m.Recipients) != 1 || m.Recipients[0] != want[m.QueueID] {
			t.Errorf("job %s: recipients %q, want %q", m.QueueID, m.Recipients, want[m.QueueID])
		}
	}
}
