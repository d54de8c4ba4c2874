package detect

import "hash/crc32"

// GitHubToken finds GitHub tokens in the formats GitHub introduced in
// 2021: ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server), ghs_
// (server-to-server), ghr_ (refresh) + 30 random characters + a 6-character
// base62 CRC32 checksum of those 30; and fine-grained personal tokens
// github_pat_ + 22 + '_' + 59 characters.
type GitHubToken struct{ builtin }

func newGitHubToken(o Options) Detector { return &GitHubToken{newBuiltin(idGitHubToken, o)} }

var gitHubTokenInfo = Info{
	Name:        "github_token",
	Description: "GitHub access tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
	Validator:   "gh[pousr]_ + 30 alphanumerics + base62 (0-9A-Za-z) CRC32 of those 30, left-padded to 6; github_pat_ + 22 alphanumerics + '_' + 59 alphanumerics",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"github", "token", "gh_token", "github_token", "personal access token", "pat", "authorization", "bearer", "git",
	},
	Evidence:   "ghp_**** (type prefix only)",
	Separators: "none",
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// gitHubChecksum returns the 6-character base62 CRC32 of s.
func gitHubChecksum(s string) [6]byte {
	c := crc32.ChecksumIEEE([]byte(s))
	var out [6]byte
	for k := 5; k >= 0; k-- {
		out[k] = base62[c%62]
		c /= 62
	}
	return out
}

func allAlnum(s string) bool {
	for k := 0; k < len(s); k++ {
		if !isAlnum(s[k]) {
			return false
		}
	}
	return true
}

// validGitHubToken checks a whole word.
func validGitHubToken(w string) (prefix string, ok bool) {
	switch {
	case len(w) == 40 && w[:2] == "gh" && w[3] == '_':
		switch w[2] {
		case 'p', 'o', 'u', 's', 'r':
		default:
			return "", false
		}
		body := w[4:]
		if !allAlnum(body) {
			return "", false
		}
		sum := gitHubChecksum(body[:30])
		if string(sum[:]) != body[30:] {
			return "", false
		}
		return w[:4], true
	case len(w) == 93 && w[:11] == "github_pat_" && w[33] == '_':
		if !allAlnum(w[11:33]) || !allAlnum(w[34:]) {
			return "", false
		}
		return w[:11], true
	}
	return "", false
}

// gitHubToken checks a word starting with 'g'.
func (sc *scanner) gitHubToken(i, j int) int {
	w := sc.text[i:j]
	prefix, ok := validGitHubToken(w)
	if !ok {
		return -1
	}
	sc.emit(idGitHubToken, i, j, Medium, false, MaskPrefix(prefix), keyOfString(idGitHubToken, w))
	return j
}

var _ Detector = (*GitHubToken)(nil)
