// Package sessionid names SMTP sessions and their transactions for logs
// and incidents, the same way in both front ends.
package sessionid

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
)

// New returns a random id for one connection (12 hex digits).
func New() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Txn names the n-th transaction (from 1) of session id.
func Txn(id string, n int) string { return id + "." + strconv.Itoa(n) }
