package quarantine

import (
	"github.com/maildlp/maildlp/config"
)

// FromConfig returns the MTA of [quarantine].
func FromConfig(q config.QuarantineQueue) MTA {
	q = q.WithDefaults()
	if q.MTA == "sendmail" {
		return &Sendmail{Path: q.SendmailPath, QueueDir: q.SendmailQueueDir, MaxListing: int64(q.MaxListingBytes)}
	}
	return &Postfix{ConfigDir: q.PostfixConfigDir, BinDir: q.PostfixBinDir, MaxListing: int64(q.MaxListingBytes)}
}
