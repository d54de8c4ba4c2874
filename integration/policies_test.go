package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Code words that trigger one test policy each. They are keywords, not
// sensitive data: the tests check routing and enforcement, the detectors
// have their own tests.
const (
	wordBlock      = "qxblockword"
	wordRedirect   = "qxredirectword"
	wordNotify     = "qxnotifyword"
	wordModify     = "qxmodifyword"
	wordQuarantine = "qxquarantineword"
	wordTempfail   = "qxtempfailword"

	blockText   = "Message refused by policy {policy}, incident {incident_id}"
	reviewAddr  = "review@review.example"
	noticeAddr  = "dlp-admin@review.example"
	subjPrefix  = "[DLP checked] "
	cfilterName = "X-CFilter"
)

// testPolicies has one policy per action, each keyed on its code word.
const testPolicies = `
[[detector]]
name = "kw_block"
type = "keywords"
words = ["qxblockword"]
confidence = "high"

[[detector]]
name = "kw_redirect"
type = "keywords"
words = ["qxredirectword"]
confidence = "high"

[[detector]]
name = "kw_notify"
type = "keywords"
words = ["qxnotifyword"]
confidence = "high"

[[detector]]
name = "kw_modify"
type = "keywords"
words = ["qxmodifyword"]
confidence = "high"

[[detector]]
name = "kw_quarantine"
type = "keywords"
words = ["qxquarantineword"]
confidence = "high"

[[detector]]
name = "kw_tempfail"
type = "keywords"
words = ["qxtempfailword"]
confidence = "high"

[[policy]]
name = "test-block"
severity = "high"
[policy.rule]
detector = "kw_block"
[policy.block]
code = 550
enhanced = "5.7.1"
text = "Message refused by policy {policy}, incident {incident_id}"

[[policy]]
name = "test-redirect"
[policy.rule]
detector = "kw_redirect"
[policy.redirect]
to = ["review@review.example"]

[[policy]]
name = "test-notify"
[policy.rule]
detector = "kw_notify"
[policy.notify]
sender = true
to = ["dlp-admin@review.example"]
subject = "DLP notice: {policy} {incident_id}"

[[policy]]
name = "test-modify"
[policy.rule]
detector = "kw_modify"
[policy.modify]
subject_prefix = "[DLP checked] "
headers = [{ name = "X-CFilter", value = "Encrypt" }]

[[policy]]
name = "test-quarantine"
[policy.rule]
detector = "kw_quarantine"
[policy.quarantine]
reason = "held by {policy} ({incident_id})"

[[policy]]
name = "test-tempfail"
[policy.rule]
detector = "kw_tempfail"
[policy.tempfail]
code = 451
enhanced = "4.7.1"
text = "Try again later ({policy})"
`

// contribFile returns the first of the candidate contrib paths (relative
// to the repository) that exists; the test fails when none does, since the
// tests must prove the shipped files.
func contribFile(t testing.TB, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(repoRoot, c)); err == nil {
			return c
		}
	}
	t.Fatalf("none of the contrib files %s exists", strings.Join(candidates, ", "))
	return ""
}
