package detect

import (
	"hash/maphash"
	"strings"
)

// PrivateKey finds private keys in PEM armour (RFC 7468: "-----BEGIN RSA
// PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----", EC, DSA, ENCRYPTED …),
// the OpenSSH armour "-----BEGIN OPENSSH PRIVATE KEY-----" and OpenPGP
// "-----BEGIN PGP PRIVATE KEY BLOCK-----", with a base64 body of at least
// 64 characters. Public keys and certificates are not reported.
type PrivateKey struct{ builtin }

func newPrivateKey(o Options) Detector { return &PrivateKey{newBuiltin(idPrivateKey, o)} }

var privateKeyInfo = Info{
	Name:        "private_key",
	Description: "Private keys in PEM, OpenSSH or OpenPGP armour",
	Validator:   "\"-----BEGIN <label>-----\" with a label ending in PRIVATE KEY (or PGP PRIVATE KEY BLOCK), followed (after optional header lines) by at least 64 base64 characters; the match runs to the END line when present",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"private key", "ssh", "id_rsa", "id_ed25519", "pem", "key", "certificate", "tls", "gpg", "pgp",
	},
	Evidence:   "RSA PRIVATE KEY **** (armour label only)",
	Separators: "none",
}

const pemBegin = "-----BEGIN "

// privateKey checks the armour starting at i (a '-').
func (sc *scanner) privateKey(i int) int {
	t := sc.text
	if !strings.HasPrefix(t[i:], pemBegin) {
		return -1
	}
	ls := i + len(pemBegin)
	le := ls
	for le < len(t) && le-ls <= 40 && (isUpper(t[le]) || t[le] == ' ') {
		le++
	}
	label := t[ls:le]
	if !strings.HasPrefix(t[le:], "-----") ||
		!(strings.HasSuffix(label, "PRIVATE KEY") || label == "PGP PRIVATE KEY BLOCK") {
		return -1
	}
	p := le + 5
	var h maphash.Hash
	h.SetSeed(keySeed)
	n := 0
	for p < len(t) {
		c := t[p]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p++
		case isBase64Std(c) || c == '=':
			// A header line ("Proc-Type: 4,ENCRYPTED", "Version: …") has a
			// colon before its end; skip it.
			e := p
			for e < len(t) && t[e] != '\n' && t[e] != ':' {
				e++
			}
			if e < len(t) && t[e] == ':' && n == 0 {
				for e < len(t) && t[e] != '\n' {
					e++
				}
				p = e
				continue
			}
			for p < len(t) && (isBase64Std(t[p]) || t[p] == '=') {
				h.WriteByte(t[p])
				p++
				n++
			}
		default:
			goto body
		}
	}
body:
	if n < 64 {
		return -1
	}
	end := p
	if strings.HasPrefix(t[p:], "-----END ") {
		e := strings.Index(t[p+9:min(len(t), p+9+64)], "-----")
		if e >= 0 {
			end = p + 9 + e + 5
		}
	} else {
		// Do not count the whitespace after the body.
		for end > i && (t[end-1] == ' ' || t[end-1] == '\t' || t[end-1] == '\r' || t[end-1] == '\n') {
			end--
		}
	}
	sc.emit(idPrivateKey, i, end, Medium, false, MaskPrefix(label+" "), h.Sum64()^idMix(idPrivateKey))
	return end
}

var _ Detector = (*PrivateKey)(nil)
