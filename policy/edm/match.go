package edm

import (
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/detect"
)

func init() { dataset.Register(config.DetectorEDM, open) }

// maxTableLine bounds a line read as one table row, in bytes.
const maxTableLine = 4096

// Matcher matches the rows of one index for one detector: a value of an
// anchor column found in the text anchors each row that has it; the row
// matches when MinColumns distinct counted columns of that same row are
// found within Proximity characters of the anchor, or, when the anchor
// is in a table line (cells separated by tabs, or by two or more of ',',
// ';' or '|': CSV, a spreadsheet or HTML table row as extracted), in
// that line. Values of other rows never count, whatever their distance.
type Matcher struct {
	name       string
	idx        *Index
	shape      shape
	conf       detect.Confidence
	minColumns int
	proximity  int
	anchorCols uint32 // columns whose values may anchor a row
	countCols  uint32 // columns that count
	supClasses uint32 // classes of counted supporting columns (bit per Class)
	taggers    sync.Pool
}

// Options configure a Matcher; zero values take the defaults.
type Options struct {
	Primary    []string // anchor columns (default: the index's primary columns)
	Columns    []string // counted columns (default: all)
	MinColumns int      // default 2
	Proximity  int      // characters, default 300
	Confidence detect.Confidence
}

// NewMatcher builds the matcher of a detector over an opened index.
func NewMatcher(name string, x *Index, o Options) (*Matcher, error) {
	if x.key == nil {
		return nil, fmt.Errorf("edm: index opened without its key")
	}
	m := &Matcher{name: name, idx: x, shape: newShape(x), conf: o.Confidence, minColumns: o.MinColumns, proximity: o.Proximity}
	if m.conf == 0 {
		m.conf = detect.Medium
	}
	if m.minColumns == 0 {
		m.minColumns = config.DefaultMinColumns
	}
	if m.proximity == 0 {
		m.proximity = config.DefaultEDMProximity
	}
	col := func(name string) (int, error) {
		for i, c := range x.Meta.Columns {
			if c.Name == name {
				return i, nil
			}
		}
		var have []string
		for _, c := range x.Meta.Columns {
			have = append(have, c.Name)
		}
		return 0, fmt.Errorf("index %q has no column %q (columns: %s)", x.Meta.Name, name, strings.Join(have, ", "))
	}
	for i, c := range x.Meta.Columns {
		if c.Primary && o.Primary == nil {
			m.anchorCols |= 1 << i
		}
		if o.Columns == nil {
			m.countCols |= 1 << i
		}
	}
	for _, p := range o.Primary {
		i, err := col(p)
		if err != nil {
			return nil, err
		}
		if !x.Meta.Columns[i].Primary {
			return nil, fmt.Errorf("column %q of index %q is not a primary column (only primary columns anchor a row)", p, x.Meta.Name)
		}
		m.anchorCols |= 1 << i
	}
	for _, p := range o.Columns {
		i, err := col(p)
		if err != nil {
			return nil, err
		}
		m.countCols |= 1 << i
	}
	if n := bits.OnesCount32(m.countCols); m.minColumns > n {
		return nil, fmt.Errorf("min_columns = %d, but only %d columns count", m.minColumns, n)
	}
	for i, c := range x.Meta.Columns {
		if !c.Primary && m.countCols&(1<<i) != 0 {
			m.supClasses |= 1 << c.class
		}
	}
	return m, nil
}

func open(d *config.Detector) (dataset.Matcher, error) {
	key, err := LoadKey(d.KeyFile)
	if err != nil {
		return nil, err
	}
	x, err := Open(d.Index, key)
	if err != nil {
		return nil, err
	}
	conf := detect.Medium
	if d.Confidence != "" {
		if conf, err = detect.ParseConfidence(string(d.Confidence)); err != nil {
			x.Close()
			return nil, err
		}
	}
	m, err := NewMatcher(d.Name, x, Options{Primary: d.Primary, Columns: d.Columns, MinColumns: d.MinColumns, Proximity: d.Proximity, Confidence: conf})
	if err != nil {
		x.Close()
		return nil, err
	}
	return m, nil
}

// Name is the detector name.
func (m *Matcher) Name() string { return m.name }

// Index is the matcher's index.
func (m *Matcher) Index() *Index { return m.idx }

// Match appends a match per table row found in text (see [Matcher]).
func (m *Matcher) Match(text string, part dataset.Part, mt dataset.Meter, dst []detect.Match) ([]detect.Match, bool) {
	s := &scan{m: m, text: text}
	if mt != nil {
		s.meter = mt
	}
	if t, ok := m.taggers.Get().(*tagger); ok {
		s.t = t
	}
	defer func() {
		if s.t != nil {
			m.taggers.Put(s.t)
		}
	}()
	if !s.findAnchors() {
		return dst, false
	}
	if len(s.anchors) == 0 {
		return dst, true
	}
	sortAnchors(s.anchors)
	n0 := len(dst)
	dst = s.rows(dst)
	for i := n0; i < len(dst); i++ {
		dst[i].Evidence += fmt.Sprintf("; %d of %d rows in this part", i-n0+1, len(dst)-n0)
	}
	return dst, !s.stopped
}

// rows evaluates the anchors and appends a match per row that has
// enough columns.
func (s *scan) rows(dst []detect.Match) []detect.Match {
	m := s.m
	x := m.idx
	done := map[uint32]bool{}
	for ai, a := range s.anchors {
		if m.anchorCols&(1<<a.col) == 0 || done[a.row] {
			continue
		}
		lo, hi := s.window(a)
		if s.stopped {
			break
		}
		found := uint32(1) << a.col
		// span covers the values of the row found: the match masks them
		// all (a masked subject keeps no name of the row in the clear).
		span := [2]int{a.start, a.end}
		// Other anchor columns of the same row in the window.
		seen := 0
		for k := ai - 1; k >= 0 && s.anchors[k].start >= lo; k-- {
			if b := s.anchors[k]; b.row == a.row && b.end <= hi {
				found |= 1 << b.col
				span[0], span[1] = min(span[0], b.start), max(span[1], b.end)
			}
			seen++
		}
		for k := ai + 1; k < len(s.anchors) && s.anchors[k].start < hi; k++ {
			if b := s.anchors[k]; b.row == a.row && b.start >= lo && b.end <= hi {
				found |= 1 << b.col
				span[0], span[1] = min(span[0], b.start), max(span[1], b.end)
			}
			seen++
		}
		if !s.step(seen + 1) {
			break
		}
		// Read even when the anchors are enough: the match names and
		// masks every value of its row (once per matched row).
		if m.supClasses != 0 {
			found |= s.supporting(a.row, lo, hi, a, found, &span)
		}
		got := found & m.countCols
		if bits.OnesCount32(got) < m.minColumns {
			continue
		}
		done[a.row] = true
		var names []string
		for i, c := range x.Meta.Columns {
			if got&(1<<i) != 0 {
				names = append(names, c.Name)
			}
		}
		var rb [5]byte
		rb[0] = 'r'
		rb[1], rb[2], rb[3], rb[4] = byte(a.row), byte(a.row>>8), byte(a.row>>16), byte(a.row>>24)
		dst = append(dst, detect.Match{
			Detector:   m.name,
			Confidence: m.conf,
			Evidence:   fmt.Sprintf("%s: %d columns (%s) of one row", x.Meta.Name, len(names), strings.Join(names, ", ")),
			Key:        x.key.filter.Sum64(rb[:]),
			Start:      span[0],
			End:        span[1],
			Why:        detect.Why{Base: m.conf},
		})
	}
	return dst
}

// window is where the other values of an anchor's row may be: its table
// line, or proximity characters on each side, cut to whole words.
func (s *scan) window(a anchor) (lo, hi int) {
	t := s.text
	ls := a.start
	for ls > 0 && a.start-ls < maxTableLine && t[ls-1] != '\n' {
		ls--
	}
	le := a.end
	for le < len(t) && le-a.end < maxTableLine && t[le] != '\n' {
		le++
	}
	s.step(le - ls)
	if (ls == 0 || t[ls-1] == '\n') && (le == len(t) || t[le] == '\n') && tableLine(t[ls:le]) {
		return ls, le
	}
	lo, hi = a.start, a.end
	for k := 0; k < s.m.proximity && lo > 0; k++ {
		_, n := utf8.DecodeLastRuneInString(t[:lo])
		lo -= n
	}
	for k := 0; k < s.m.proximity && hi < len(t); k++ {
		_, n := utf8.DecodeRuneInString(t[hi:])
		hi += n
	}
	s.step(2 * s.m.proximity)
	// Whole words only: a value cut by the window edge is outside it.
	for lo > 0 && lo < a.start && isWordByte(t[lo-1]) && isWordByte(t[lo]) {
		lo++
	}
	for hi < len(t) && hi > a.end && isWordByte(t[hi-1]) && isWordByte(t[hi]) {
		hi--
	}
	return lo, hi
}

// tableLine reports whether a line is a row of cells.
func tableLine(l string) bool {
	if strings.IndexByte(l, '\t') >= 0 {
		return true
	}
	return strings.Count(l, ",") >= 2 || strings.Count(l, ";") >= 2 || strings.Count(l, "|") >= 2
}
