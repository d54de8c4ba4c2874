package idm

import "github.com/maildlp/maildlp/internal/siphash"

// sipKey keys the fingerprints (SipHash-2-4 of a k-gram's 64-bit hash).
type sipKey = siphash.Key
