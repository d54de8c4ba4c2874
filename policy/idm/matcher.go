package idm

import (
	"sync"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/detect"
)

func init() { dataset.Register(config.DetectorIDM, openMatcher) }

// Matcher is the [dataset.Matcher] of an idm [[detector]]: it matches each
// part of a message against the index under the detector's rule.
// Containment is measured per part: a document pasted into the body, an
// attachment, an archive member are each one part.
type Matcher struct {
	name  string
	ix    *Index
	rule  Rule
	pool  sync.Pool // *Scanner
	docID sipKey    // keys the distinct-count key of a document
}

// openMatcher opens the index of d with its key.
func openMatcher(d *config.Detector) (dataset.Matcher, error) {
	key, err := LoadKey(d.KeyFile)
	if err != nil {
		return nil, err
	}
	ix, err := Open(d.Index, key)
	if err != nil {
		return nil, err
	}
	r := Rule{Exact: d.IsExact(), MinContainment: d.MinContainment, MinPassage: d.MinPassage}
	return NewMatcher(d.Name, ix, r), nil
}

// NewMatcher returns the matcher of detector name over ix. Without a
// partial criterion in r, it matches exact copies only.
func NewMatcher(name string, ix *Index, r Rule) *Matcher {
	m := &Matcher{name: name, ix: ix, rule: r, docID: sipKey{K0: ix.key.fp.K1, K1: ix.key.fp.K0}}
	m.pool.New = func() any { return ix.NewScanner() }
	return m
}

// Name is the detector's name.
func (m *Matcher) Name() string { return m.name }

// Match appends one match per indexed document the part carries under
// the rule. Its Key is a keyed value of the document, so a document found
// in two parts counts once; its evidence is masked ([Index.Evidence]); it
// spans the whole part, because fingerprints are positions in the
// normalised text, not in the part.
func (m *Matcher) Match(text string, _ dataset.Part, meter dataset.Meter, dst []detect.Match) ([]detect.Match, bool) {
	s := m.pool.Get().(*Scanner)
	defer m.pool.Put(s)
	s.Reset()
	ok := s.Text(text, meter.Step)
	for _, h := range s.Hits() {
		if !m.rule.Match(h) {
			continue
		}
		dst = append(dst, detect.Match{
			Detector:   m.name,
			Confidence: detect.High,
			Evidence:   m.ix.Evidence(h),
			Key:        m.docID.Sum64Uint64(uint64(h.Doc)),
			Start:      0,
			End:        len(text),
		})
	}
	return dst, ok
}

var _ dataset.Matcher = (*Matcher)(nil)
