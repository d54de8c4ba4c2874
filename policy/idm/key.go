package idm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/maildlp/maildlp/internal/siphash"
)

// ErrKey is a key file that cannot be used: unreadable, malformed, or
// readable by others than its owner.
var ErrKey = errors.New("idm: bad key file")

// keySize is the length of the secret in bytes.
const keySize = 32

// Key is the secret of one index. Every hash in the index is keyed by it,
// so an index without its key reveals nothing about the text, and an index
// queried with another key matches nothing. It lives in its own file, mode
// 0600, apart from the index.
type Key struct {
	secret [keySize]byte
	id     [8]byte
	table  [256]uint64 // rolling-hash table (winnow.go)
	fp     sipKey      // fingerprint PRF
	exact  []byte      // HMAC key of the exact hashes
}

// NewKey makes a random key.
func NewKey() (*Key, error) {
	var s [keySize]byte
	if _, err := rand.Read(s[:]); err != nil {
		return nil, fmt.Errorf("idm: make key: %w", err)
	}
	return keyFrom(s), nil
}

// keyFrom derives the subkeys of the secret s, each by HMAC-SHA256 with its
// own label, so that no two uses share a key.
func keyFrom(s [keySize]byte) *Key {
	k := &Key{secret: s}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, s[:])
		m.Write([]byte("maildlp idm " + label))
		return m.Sum(nil)
	}
	copy(k.id[:], derive("key id"))
	t := derive("rolling table")
	tk := siphash.NewKey(t)
	for i := range k.table {
		k.table[i] = tk.Sum64Uint64(uint64(i))
	}
	f := derive("fingerprint")
	k.fp = siphash.NewKey(f)
	k.exact = derive("exact")
	return k
}

// ID is the key's public identifier, stored in the index header so that a
// wrong key is refused with a clear error.
func (k *Key) ID() string { return hex.EncodeToString(k.id[:]) }

// WriteKey writes k to path as hex, mode 0600, refusing to overwrite.
func WriteKey(path string, k *Key) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("idm: write key: %w", err)
	}
	if _, err := fmt.Fprintln(f, hex.EncodeToString(k.secret[:])); err != nil {
		f.Close()
		return fmt.Errorf("idm: write key %s: %w", path, err)
	}
	return f.Close()
}

// LoadKey reads a key file written by [WriteKey]. A file that others than
// its owner may read is refused: the key is what protects the index.
func LoadKey(path string) (*Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is mode %04o, want 0600 (readable by its owner only)", ErrKey, path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != keySize {
		return nil, fmt.Errorf("%w: %s: want %d hex characters", ErrKey, path, 2*keySize)
	}
	var s [keySize]byte
	copy(s[:], raw)
	return keyFrom(s), nil
}

// exactSum is the keyed hash of an exact match: kind "b" for the bytes of
// a file, "t" for its normalised text.
func (k *Key) exactSum(kind string, b []byte) [16]byte {
	m := hmac.New(sha256.New, k.exact)
	m.Write([]byte(kind))
	m.Write(b)
	var out [16]byte
	copy(out[:], m.Sum(nil))
	return out
}
