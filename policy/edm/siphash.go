package edm

import "github.com/maildlp/maildlp/internal/siphash"

// sipKey keys the in-memory filter and the supporting-column tags.
type sipKey = siphash.Key

func newSipKey(b []byte) sipKey { return siphash.NewKey(b) }
