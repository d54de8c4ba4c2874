package extract

import (
	"strings"
	"testing"
)

// naiveASCII is the reference for isASCII and isASCIIString.
func naiveASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func checkASCII(t *testing.T, s string) {
	t.Helper()
	want := naiveASCII(s)
	if got := isASCIIString(s); got != want {
		t.Fatalf("isASCIIString(%q) = %v, want %v", s, got, want)
	}
	if got := isASCII([]byte(s)); got != want {
		t.Fatalf("isASCII(%q) = %v, want %v", s, got, want)
	}
}

// TestIssue12ASCIIWordAtATime puts one high byte at every position of
// texts of every length up to a few words, so that each word, each
// 32-byte block and the byte-wise tail are all seen to find it.
func TestIssue12ASCIIWordAtATime(t *testing.T) {
	for n := range 100 {
		s := strings.Repeat("a", n)
		checkASCII(t, s)
		for i := range n {
			for _, c := range []byte{0x80, 0xC3, 0xFF} {
				b := []byte(s)
				b[i] = c
				checkASCII(t, string(b))
			}
		}
	}
}

func FuzzASCII(f *testing.F) {
	f.Add([]byte("plain ASCII text of some length, more than thirty-two bytes"))
	f.Add([]byte("caf\xc3\xa9"))
	f.Fuzz(func(t *testing.T, b []byte) { checkASCII(t, string(b)) })
}

func checkPGPMessage(t *testing.T, s string) {
	t.Helper()
	if got, want := hasPGPMessage(s), strings.Contains(s, pgpArmour); got != want {
		t.Fatalf("hasPGPMessage(%q) = %v, want %v", s, got, want)
	}
}

// TestIssue12PGPMessageSearch compares the anchored search with
// strings.Contains at the edges: the armour at the start, at the end,
// after a partial armour, overlapping a near miss, and absent among many
// anchors.
func TestIssue12PGPMessageSearch(t *testing.T) {
	for _, s := range []string{
		"", "PGP MESSAGE-----", "BEGIN PGP MESSAGE-----", "----BEGIN PGP MESSAGE-----",
		pgpArmour, pgpArmour[:len(pgpArmour)-1], "x" + pgpArmour, pgpArmour + "\r\n",
		"-----BEGIN PGP MESSAGE----" + pgpArmour,
		"-----BEGIN X PGP MESSAGE----- " + pgpArmour,
		strings.Repeat("PGP MESSAGE-----", 100),
		strings.Repeat("-----BEGIN PGP MESSAGE----", 100),
		"2026-03-04 ref 12-34-56 " + strings.Repeat("-", 40) + " PGP MESSAGE-----",
		"-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n",
	} {
		checkPGPMessage(t, s)
		checkPGPMessage(t, s+pgpArmour)
		checkPGPMessage(t, pgpArmour+s)
	}
}

func FuzzPGPMessage(f *testing.F) {
	f.Add("text " + pgpArmour + "\r\nhQEMA...")
	f.Add("-----BEGIN PGP MESSAGE----PGP MESSAGE-----")
	f.Fuzz(func(t *testing.T, s string) {
		checkPGPMessage(t, s)
		// The fuzzer rarely builds the armour: give it one to break.
		checkPGPMessage(t, s+pgpArmour[:len(s)%len(pgpArmour)])
		checkPGPMessage(t, pgpArmour[len(s)%len(pgpArmour):]+s)
	})
}
