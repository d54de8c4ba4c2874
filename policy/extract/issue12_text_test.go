package extract

import (
	"strings"
	"testing"
	"unicode"
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

// msgIDRepl is the replacement fieldText applies, marked so that a test
// sees which ids were replaced and with what.
func msgIDRepl(id string) string { return "[" + strings.ToUpper(id) + "]" }

func checkMsgIDs(t *testing.T, s string) {
	t.Helper()
	if got, want := replaceMsgIDs(s, msgIDRepl), msgIDRE.ReplaceAllStringFunc(s, msgIDRepl); got != want {
		t.Fatalf("replaceMsgIDs(%q) = %q, want %q", s, got, want)
	}
	for _, key := range []string{"content-type", "message-id"} {
		if got, want := fieldText(key, s), refFieldText(key, s); got != want {
			t.Fatalf("fieldText(%q, %q) = %q, want %q", key, s, got, want)
		}
	}
}

// refFieldText is fieldText as it was, with the expressions only.
func refFieldText(lkey, val string) string {
	if lkey == "content-type" {
		return boundaryParamRE.ReplaceAllString(val, "${1}")
	}
	return msgIDRE.ReplaceAllStringFunc(val, func(id string) string {
		if longDigitRuns(id) >= 3 {
			return id
		}
		return ""
	})
}

// TestIssue12MsgIDScan compares the hand-written msg-id and boundary
// handling with the expressions they replace.
func TestIssue12MsgIDScan(t *testing.T) {
	for _, s := range []string{
		"", "<a@b>", "<a@b", "<@b>", "<a@>", "<a@b> <c@d>", "<<a@b>>", "<a<b@c>", "<a@b@c>", "<a@b<c@d>",
		"x <a b@c> <d@e f> <g@h>", "<a@b\t> <c\r@d>", "comment (<a@b>) <1234567890123@x.example>",
		"<\xff@\xfe>", "<ſ@K>", "<a@b>>", "<a@@b>", "<a@b> tail", "head <a@b>",
		"<1111111111111.2222222222222.3333333333333@x>",
		"multipart/mixed; boundary=\"=_x_123\"", "multipart/mixed; BOUNDARY=abc; charset=x",
		"text/plain; boundary = 12345", "multipart/mixed;boundary=", "text/plain; charset=us-ascii",
		"multipart/alternative; bOuNdArY=\"a b\"", "xboundary=1", "boundar y=1",
	} {
		checkMsgIDs(t, s)
	}
}

// TestIssue12BoundaryFold proves the premise of the boundary prefilter:
// no rune but the ASCII upper and lower case of a letter of "boundary"
// folds to it, so the expression's (?i) matches nothing the ASCII test
// misses.
func TestIssue12BoundaryFold(t *testing.T) {
	for _, c := range "boundary" {
		for r := unicode.SimpleFold(c); r != c; r = unicode.SimpleFold(r) {
			if r != unicode.ToUpper(c) {
				t.Errorf("%q folds to %q", c, r)
			}
		}
	}
}

func FuzzMsgIDScan(f *testing.F) {
	f.Add("<a@b> x <c@d e> <1234567890123@x>")
	f.Add("multipart/mixed; boundary=\"=_1\"")
	f.Fuzz(func(t *testing.T, s string) { checkMsgIDs(t, s) })
}
