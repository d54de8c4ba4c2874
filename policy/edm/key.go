package edm

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
)

// keyHeader starts a key file; the secret follows in hex.
const keyHeader = "maildlp-edm-key v1"

// Key is a dataset's secret. Every function of the index is derived from
// it: the SipHash key of the filter, the SipHash key of the supporting
// tags, the HMAC-SHA256 key of the stored anchor tags and the key id
// written in the index (which tells a wrong key from a corrupt index
// without revealing the key).
type Key struct {
	secret  [32]byte
	filter  sipKey
	support sipKey
	tag     [32]byte
	id      [8]byte
}

// ErrKey is a key file that cannot be used.
var ErrKey = errors.New("edm: bad key file")

// NewKey makes a random key.
func NewKey() (*Key, error) {
	var s [32]byte
	if _, err := rand.Read(s[:]); err != nil {
		return nil, fmt.Errorf("edm: generate key: %w", err)
	}
	return keyFrom(s), nil
}

func keyFrom(s [32]byte) *Key {
	k := &Key{secret: s}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, s[:])
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	k.filter = newSipKey(derive("maildlp edm filter"))
	k.support = newSipKey(derive("maildlp edm support"))
	copy(k.tag[:], derive("maildlp edm tag"))
	copy(k.id[:], derive("maildlp edm key id"))
	return k
}

// ID is the key id, as inspect shows it.
func (k *Key) ID() string { return hex.EncodeToString(k.id[:]) }

// Marshal is the key file's content.
func (k *Key) Marshal() []byte {
	return []byte(keyHeader + "\n" + hex.EncodeToString(k.secret[:]) + "\n")
}

// ParseKey reads a key file's content.
func ParseKey(b []byte) (*Key, error) {
	head, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok || string(head) != keyHeader {
		return nil, fmt.Errorf("%w: not a maildlp edm key file", ErrKey)
	}
	h := strings.TrimSpace(string(rest))
	var s [32]byte
	if len(h) != 64 {
		return nil, fmt.Errorf("%w: want 64 hex digits", ErrKey)
	}
	if _, err := hex.Decode(s[:], []byte(h)); err != nil {
		return nil, fmt.Errorf("%w: want 64 hex digits", ErrKey)
	}
	return keyFrom(s), nil
}

// LoadKey reads a key file, refusing one that group or others can read.
func LoadKey(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("edm: key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is readable by others (mode %04o; want 0600)", ErrKey, path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("edm: key file: %w", err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// WriteKey writes a new key file with mode 0600; it never replaces a file.
func WriteKey(path string, k *Key) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("edm: write key: %w", err)
	}
	if _, err := f.Write(k.Marshal()); err != nil {
		f.Close()
		return fmt.Errorf("edm: write key: %w", err)
	}
	return f.Close()
}

// tagger computes stored tags: HMAC-SHA256 truncated to 64 bits. It is
// used at scan time only on filter hits. Not safe for concurrent use.
type tagger struct {
	h   hash.Hash
	sum [32]byte
}

func (k *Key) newTagger() *tagger { return &tagger{h: hmac.New(sha256.New, k.tag[:])} }

func (t *tagger) tag(class Class, canon []byte) uint64 {
	t.h.Reset()
	t.h.Write([]byte{byte(class)})
	t.h.Write(canon)
	s := t.h.Sum(t.sum[:0])
	return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
		uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
}

// filterKey is the filter's key of a value: SipHash of class and value.
func (k *Key) filterKey(class Class, canon []byte, buf []byte) uint64 {
	buf = append(buf[:0], byte(class))
	buf = append(buf, canon...)
	return k.filter.Sum64(buf)
}

// supportTag is the 32-bit tag of a supporting cell.
func (k *Key) supportTag(class Class, canon []byte, buf []byte) uint32 {
	buf = append(buf[:0], byte(class))
	buf = append(buf, canon...)
	return uint32(k.support.Sum64(buf))
}
