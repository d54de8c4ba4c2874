package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: the second recommended set of RFC 9106 section 4
// scaled to OWASP's minimum (19 MiB, 2 passes), so that a login costs a
// few tens of milliseconds and a burst of logins cannot exhaust memory.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// MaxPasswordLen bounds the password hashed, so that a huge form field
// costs nothing more than a normal one.
const MaxPasswordLen = 1024

// argonKey is argon2.IDKey (tests count the calls running at once).
var argonKey = argon2.IDKey

// hashSlots bounds the Argon2id computations running at once. Each holds
// its memory (19 MiB) while it runs, and the login throttle bounds the
// tries per address and name, not across them: logins from many
// addresses queue here instead of each holding its own.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// idKey is argonKey within a slot of hashSlots.
func idKey(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argonKey(pw, salt, time, memory, threads, keyLen)
}

var errBadHash = errors.New("console: malformed password hash")

// HashPassword returns the PHC string of an Argon2id hash of pw with a
// random salt: $argon2id$v=19$m=...,t=...,p=...$salt$key.
func HashPassword(pw string) (string, error) {
	if err := checkPassword(pw); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := idKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func checkPassword(pw string) error {
	switch {
	case len(pw) < MinPasswordLen:
		return fmt.Errorf("password too short (want at least %d characters)", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("password too long (at most %d bytes)", MaxPasswordLen)
	}
	return nil
}

// VerifyPassword reports whether pw matches the PHC string hash. It reads
// the parameters from hash, so that hashes made with older parameters keep
// working, within bounds that keep a forged row from costing the server.
func VerifyPassword(hash, pw string) (bool, error) {
	if len(pw) > MaxPasswordLen {
		return false, nil
	}
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(f[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m < 8 || m > 1<<20 || t < 1 || t > 10 || p < 1 {
		return false, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(f[4])
	key, err2 := enc.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(key) < 16 || len(key) > 64 {
		return false, errBadHash
	}
	got := idKey([]byte(pw), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// dummyHash is verified against when the user does not exist, so that a
// login takes as long for an unknown name as for a known one.
var dummyHash = func() string {
	h, _ := HashPassword("not a password of anyone")
	return h
}()
