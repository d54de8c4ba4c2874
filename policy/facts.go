package policy

import (
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// Evidence and locations kept per detection in a verdict. Counts are
// always exact; only the lists shown beside them are bounded.
const (
	maxEvidence  = 10
	maxLocations = 10
)

// hit is one match with the part it was found in.
type hit struct {
	detect.Match
	part int // index into facts.parts
}

// facts is everything the rules look at for one message.
type facts struct {
	env         Envelope
	direction   string // outbound or internal
	header      []extract.HeaderField
	parts       []extract.Part
	unscannable []extract.Unscannable
	hits        []hit
	byDetector  map[string][]int // detector -> indexes into hits
	atts        []attachmentFact // built on first use
	counts      map[countKey]int // memo of count
	subject     *string          // memo of maskedSubject
}

func newFacts(env Envelope, res *extract.Result, internal []string) *facts {
	f := &facts{env: env, byDetector: map[string][]int{}}
	if res != nil {
		f.header, f.parts, f.unscannable = res.Header, res.Parts, res.Unscannable
	}
	f.direction = direction(f.env.Rcpts, internal)
	return f
}

// direction is internal when every recipient is in an internal domain (or
// below one) and none is routed on to another destination (see
// parseEnvAddr). No recipient, or no internal domain, is outbound.
func direction(rcpts []string, internal []string) string {
	if len(internal) == 0 || len(rcpts) == 0 {
		return "outbound"
	}
	for _, r := range rcpts {
		if !isInternal(internal, r) {
			return "outbound"
		}
	}
	return "internal"
}

func (f *facts) add(part int, ms []detect.Match) {
	for _, m := range ms {
		f.byDetector[m.Detector] = append(f.byDetector[m.Detector], len(f.hits))
		f.hits = append(f.hits, hit{Match: m, part: part})
	}
}

// qualifies reports whether a match counts for a condition.
func qualifies(m *detect.Match, minConf detect.Confidence, tests bool) bool {
	return m.Confidence >= minConf && (tests || !m.TestValue)
}

// keySet collects distinct match keys: a slice while small, a map past
// that, so that counting stays linear in the number of matches.
type keySet struct {
	small []uint64
	big   map[uint64]struct{}
}

// add adds k and reports whether it was new.
func (s *keySet) add(k uint64) bool {
	if s.big != nil {
		if _, ok := s.big[k]; ok {
			return false
		}
		s.big[k] = struct{}{}
		return true
	}
	if containsKey(s.small, k) {
		return false
	}
	if len(s.small) < 32 {
		s.small = append(s.small, k)
		return true
	}
	s.big = make(map[uint64]struct{}, 64)
	for _, x := range s.small {
		s.big[x] = struct{}{}
	}
	s.small = nil
	s.big[k] = struct{}{}
	return true
}

func (s *keySet) has(k uint64) bool {
	if s.big != nil {
		_, ok := s.big[k]
		return ok
	}
	return containsKey(s.small, k)
}

func (s *keySet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return len(s.small)
}

type countKey struct {
	det     string
	minConf detect.Confidence
	tests   bool
}

// count is the number of distinct values of a detector that qualify.
func (f *facts) count(det string, minConf detect.Confidence, tests bool) int {
	hits := f.byDetector[det]
	if len(hits) == 0 {
		// The common case, a detector that found nothing: no memo entry,
		// whose map would cost more than the answer.
		return 0
	}
	ck := countKey{det, minConf, tests}
	if n, ok := f.counts[ck]; ok {
		return n
	}
	var seen keySet
	for _, i := range hits {
		m := &f.hits[i].Match
		if qualifies(m, minConf, tests) {
			seen.add(m.Key)
		}
	}
	if f.counts == nil {
		f.counts = map[countKey]int{}
	}
	f.counts[ck] = seen.len()
	return seen.len()
}

func containsKey(l []uint64, k uint64) bool {
	for _, x := range l {
		if x == k {
			return true
		}
	}
	return false
}

// proximity counts distinct values of a that have a value of b within
// window characters in the same part. The matches of b are sorted by part
// and start, so each value of a looks only at the b matches that can be
// near it.
func (f *facts) proximity(a, b string, window int, minConf detect.Confidence, tests bool) int {
	var bs []*hit
	maxLen := 0
	for _, j := range f.byDetector[b] {
		y := &f.hits[j]
		if qualifies(&y.Match, minConf, tests) {
			bs = append(bs, y)
			maxLen = max(maxLen, y.End-y.Start)
		}
	}
	if len(bs) == 0 {
		return 0
	}
	sort.Slice(bs, func(i, j int) bool {
		if bs[i].part != bs[j].part {
			return bs[i].part < bs[j].part
		}
		return bs[i].Start < bs[j].Start
	})
	var seen keySet
	for _, i := range f.byDetector[a] {
		x := &f.hits[i]
		if !qualifies(&x.Match, minConf, tests) || seen.has(x.Key) {
			continue
		}
		lo := x.Start - window - maxLen
		k := sort.Search(len(bs), func(k int) bool {
			return bs[k].part > x.part || bs[k].part == x.part && bs[k].Start >= lo
		})
		for ; k < len(bs) && bs[k].part == x.part && bs[k].Start <= x.End+window; k++ {
			y := bs[k]
			if a == b && y.Key == x.Key {
				continue
			}
			if gap(x.Start, x.End, y.Start, y.End) <= window {
				seen.add(x.Key)
				break
			}
		}
	}
	return seen.len()
}

// gap is the number of characters between two spans (0 when they touch
// or overlap).
func gap(s1, e1, s2, e2 int) int {
	if s2 >= e1 {
		return s2 - e1
	}
	if s1 >= e2 {
		return s1 - e2
	}
	return 0
}

// attachmentFact is one attachment or archive member: those that yielded
// text (parts) and those that could not be read (unscannable items), so
// that an encrypted archive or a picture can be matched by name and type.
type attachmentFact struct {
	location string
	names    []string // lowercased: the attachment and member names in the location
	mime     string   // lowercased detected type, "" when unknown
	size     int64    // decoded size, < 0 when unknown
}

// locationName finds the quoted names in a location: the one after
// "attachment " and those after "> " (archive members), not sheet or slide
// names.
var locationName = regexp.MustCompile(`(?:^|attachment |> )("(?:[^"\\]|\\.)*")`)

func attachmentNames(loc, filename string) []string {
	var names []string
	if filename != "" {
		names = append(names, strings.ToLower(filename), strings.ToLower(path.Base(filename)))
	}
	for _, m := range locationName.FindAllStringSubmatch(loc, -1) {
		n, err := strconv.Unquote(m[1])
		if err != nil {
			n = strings.Trim(m[1], `"`)
		}
		n = strings.ToLower(n)
		names = appendUnique(names, n)
		names = appendUnique(names, path.Base(n))
	}
	return names
}

func (f *facts) attachments() []attachmentFact {
	if f.atts != nil {
		return f.atts
	}
	f.atts = []attachmentFact{}
	for i := range f.parts {
		p := &f.parts[i]
		if p.Kind != extract.KindAttachment {
			continue
		}
		size := p.Size
		if size <= 0 {
			size = -1
		}
		f.atts = append(f.atts, attachmentFact{p.Location, attachmentNames(p.Location, p.Filename), strings.ToLower(p.MIMEType), size})
	}
	for _, u := range f.unscannable {
		if !strings.HasPrefix(u.Location, "attachment ") {
			continue
		}
		f.atts = append(f.atts, attachmentFact{u.Location, attachmentNames(u.Location, ""), strings.ToLower(u.MIMEType), -1})
	}
	return f.atts
}

// attachment finds an attachment with every property of n.
func (f *facts) attachment(n *cond) (string, bool) {
	for _, a := range f.attachments() {
		if len(n.fileTypes) > 0 && (a.mime == "" || !globAny(n.fileTypes, a.mime)) {
			continue
		}
		if len(n.filenames) > 0 && !slices.ContainsFunc(a.names, func(name string) bool { return globAny(n.filenames, name) }) {
			continue
		}
		if n.minSize > 0 || n.maxSize >= 0 {
			if a.size < 0 || a.size < n.minSize || n.maxSize >= 0 && a.size > n.maxSize {
				continue
			}
		}
		return a.location, true
	}
	return "", false
}

func globAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// header reports whether a top-level header field satisfies n.
func (f *facts) hasHeader(n *cond) bool {
	for _, h := range f.header {
		if !strings.EqualFold(h.Name, n.header) {
			continue
		}
		switch {
		case n.re != nil:
			if n.re.MatchString(h.Value) {
				return true
			}
		case n.contains != "":
			if strings.Contains(strings.ToLower(h.Value), n.contains) {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// detections sums up every detector with matches at medium confidence or
// above, sorted by name.
func (f *facts) detections() []action.Detection {
	var out []action.Detection
	names := make([]string, 0, len(f.byDetector))
	for name := range f.byDetector {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var d action.Detection
		var keys keySet
		allTest := true
		var maxConf detect.Confidence
		for _, i := range f.byDetector[name] {
			h := &f.hits[i]
			if h.Confidence < detect.Medium {
				continue
			}
			maxConf = max(maxConf, h.Confidence)
			if !h.TestValue {
				allTest = false
			}
			if keys.add(h.Key) {
				if len(d.Evidence) < maxEvidence && !containsString(d.Evidence, h.Evidence) {
					d.Evidence = append(d.Evidence, h.Evidence)
				}
			}
			if loc := f.parts[h.part].Location; len(d.Locations) < maxLocations && !containsString(d.Locations, loc) {
				d.Locations = append(d.Locations, loc)
			}
		}
		if keys.len() == 0 {
			continue
		}
		d.Type, d.Count, d.Confidence, d.TestValue = name, keys.len(), maxConf.String(), allTest
		out = append(out, d)
	}
	return out
}

// evidence lists "detector ****1111 in location" lines for the given
// detectors (at medium confidence or above), for notices.
func (f *facts) evidence(detectors []string, limit int) []string {
	var out []string
	for _, name := range detectors {
		var keys keySet
		for _, i := range f.byDetector[name] {
			if len(out) >= limit {
				return out
			}
			h := &f.hits[i]
			if h.Confidence < detect.Medium || !keys.add(h.Key) {
				continue
			}
			out = append(out, name+" "+h.Evidence+" in "+f.parts[h.part].Location)
		}
	}
	return out
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// maskedSubject is the subject with every detected value replaced by its
// masked evidence, so that notices can name it.
// It is worked out once per message: the verdict's record and the
// notices and subject changes of the policies all use it.
func (f *facts) maskedSubject() string {
	if f.subject == nil {
		s := f.maskedHeader("Subject")
		f.subject = &s
	}
	return *f.subject
}

// maskedHeader is the first field name of the top-level header with every
// detected value replaced by its masked evidence.
func (f *facts) maskedHeader(name string) string {
	for pi := range f.parts {
		p := &f.parts[pi]
		if p.Kind != extract.KindHeader || !strings.EqualFold(p.Location, "header:"+name) {
			continue
		}
		text := p.Text
		var spans []hit
		for _, h := range f.hits {
			if h.part == pi && h.Start >= 0 && h.End <= len(text) && h.Start < h.End {
				spans = append(spans, h)
			}
		}
		// The widest of spans that start together first; a span that
		// overlaps one written is masked with it (their union), never
		// left to show its end in the clear.
		sort.Slice(spans, func(i, j int) bool {
			if spans[i].Start != spans[j].Start {
				return spans[i].Start < spans[j].Start
			}
			return spans[i].End > spans[j].End
		})
		var b strings.Builder
		last := 0
		for _, h := range spans {
			if h.Start < last {
				last = max(last, h.End)
				continue
			}
			b.WriteString(text[last:h.Start])
			b.WriteString(h.Evidence)
			last = h.End
		}
		b.WriteString(text[last:])
		return b.String()
	}
	return ""
}
