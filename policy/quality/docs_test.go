package quality

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy/action"
)

// docRoots is real public text that no one here wrote: the documentation
// the installed Debian packages ship (scripts/deps.sh quality installs a
// few documentation-heavy ones), the licence texts, and the man page
// sources of file formats, conventions and administration commands.
// MAILDLP_QUALITY_DOCS (a list separated by colons) replaces it.
var docRoots = []string{"/usr/share/doc", "/usr/share/common-licenses", "/usr/share/man/man5", "/usr/share/man/man7", "/usr/share/man/man8"}

// maxDocBytes skips a document larger than this after decompression
// (none of a usual installation comes near; the cap keeps the run's
// memory bounded).
const maxDocBytes = 16 << 20

// binaryExt are file kinds with no text to read.
var binaryExt = map[string]bool{".png": true, ".gif": true, ".jpg": true, ".jpeg": true, ".ico": true, ".pdf": true,
	".woff": true, ".woff2": true, ".ttf": true, ".bz2": true, ".xz": true, ".zip": true, ".mo": true, ".db": true}

// TestIssue8DebianDocs: the default policy finds no numeric identifier at
// medium or above and enforces nothing on the documentation of the
// installed packages, each file sent as the body of one message.
func TestIssue8DebianDocs(t *testing.T) {
	roots := docRoots
	if v := os.Getenv("MAILDLP_QUALITY_DOCS"); v != "" {
		roots = strings.Split(v, ":")
	}
	var files []string
	for _, root := range roots {
		if _, err := os.Stat(root); err != nil {
			continue
		}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || binaryExt[strings.ToLower(filepath.Ext(p))] {
				return nil
			}
			files = append(files, p)
			return nil
		})
	}
	if len(files) == 0 {
		results.docsSkipped = fmt.Sprintf("none of %s exists on this machine; run scripts/deps.sh quality on Debian", strings.Join(roots, ", "))
		t.Skip(results.docsSkipped)
	}
	sort.Strings(files)
	if raceEnabled {
		results.docsSkipped = "not under the race detector: make quality runs it"
		t.Skip(results.docsSkipped)
	}
	results.docsRan = true
	fails := 0
	texts := make([]bool, len(files))
	sizes := make([]int64, len(files))
	evaluateAll(t, len(files), func(i int) []byte {
		data, ok := readDoc(files[i])
		if !ok {
			return testutil.Message("")
		}
		texts[i], sizes[i] = true, int64(len(data))
		b := testutil.NewMessage().Header("Subject", files[i])
		if ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(files[i], ".gz"))); ext == ".html" || ext == ".htm" {
			return b.HTML(string(data)).Bytes()
		}
		return b.Text(string(data)).Bytes()
	}, func(i int, v action.Verdict) {
		if !texts[i] {
			return
		}
		n, flagged := judgeDoc(&fails, files[i], v)
		results.mu.Lock()
		results.docsFiles++
		results.docsBytes += sizes[i]
		results.docsDetections += n
		if flagged {
			results.docsFlagged++
		}
		if v.Action.Enforces() && flagged {
			results.docsEnf++
		}
		results.mu.Unlock()
	})
	if fails > 0 {
		t.Errorf("%d false positives in %d documentation files (listed in the report below)", fails, len(files))
	}
}

// readDoc returns the text of a documentation file, decompressed, or
// false for binary content and oversized files.
func readDoc(path string) ([]byte, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, false
		}
		r = z
	}
	data, err := io.ReadAll(io.LimitReader(r, maxDocBytes+1))
	if err != nil || len(data) > maxDocBytes || len(data) == 0 {
		return nil, false
	}
	if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		return nil, false
	}
	return data, true
}

// judgeDoc applies the bar to a documentation file: an identifier of a
// person or an account at medium or above, an unscannable part or an
// enforced verdict fails. A credential the documentation ships as an
// example (a PEM key in examples/, a token in a library's README) is a
// true detection of its kind: it is reported, with the verdict it gets,
// and not counted as a false positive.
func judgeDoc(fails *int, name string, v action.Verdict) (n int, flagged bool) {
	var what, examples []string
	for _, d := range v.Detections {
		if d.TestValue {
			continue
		}
		if credentials[d.Type] {
			examples = append(examples, fmt.Sprintf("%s %s x%d", d.Type, d.Confidence, d.Count))
			continue
		}
		n += d.Count
		what = append(what, fmt.Sprintf("%s %s x%d %v", d.Type, d.Confidence, d.Count, d.Evidence))
	}
	for _, u := range v.Unscannable {
		what = append(what, fmt.Sprintf("unscannable %s (%s)", u.Location, u.Reason))
	}
	if len(what) == 0 {
		if len(examples) > 0 {
			results.note("INFO doc %s: %s (an example credential)%s", name, strings.Join(examples, "; "), verdictNote(v))
		}
		return 0, false
	}
	results.note("FP doc %s: %s%s", name, strings.Join(append(what, examples...), "; "), verdictNote(v))
	*fails++
	return n, true
}
