package dataset

import (
	"fmt"
	"sort"
	"sync"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/detect"
)

// Part says what a text is, so that a matcher can name it in evidence
// and treat tables as tables.
type Part struct {
	Location string // readable, says where, never what
	MIMEType string
	Filename string
}

// Meter counts the work of a scan. Step adds n units of work (bytes
// examined, or 1 per step that examines none) and reports whether the
// scan may go on.
type Meter interface {
	Step(n int) bool
}

// Matcher finds the data of one dataset detector in text.
type Matcher interface {
	// Name is the [[detector]] name the matches carry.
	Name() string
	// Match appends the matches in text to dst. It returns false when m
	// stopped it before the end of text.
	Match(text string, part Part, m Meter, dst []detect.Match) ([]detect.Match, bool)
}

// Opener opens the matcher of one validated [[detector]] (its Index and
// KeyFile are absolute paths).
type Opener func(d *config.Detector) (Matcher, error)

var (
	mu      sync.RWMutex
	openers = map[config.DetectorType]Opener{}
)

// Register makes the opener of a detector type known; packages that
// implement a type call it from an init function.
func Register(typ config.DetectorType, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := openers[typ]; dup {
		panic(fmt.Sprintf("dataset: opener for %q registered twice", typ))
	}
	openers[typ] = open
}

// Open opens the matcher of d through the opener of its type.
func Open(d *config.Detector) (Matcher, error) {
	mu.RLock()
	open := openers[d.Type]
	mu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("dataset: no matcher for type %q in this build (have %v)", d.Type, Types())
	}
	return open(d)
}

// Types lists the registered detector types.
func Types() []string {
	mu.RLock()
	defer mu.RUnlock()
	var l []string
	for t := range openers {
		l = append(l, string(t))
	}
	sort.Strings(l)
	return l
}

// IsDataset reports whether t is a dataset detector type.
func IsDataset(t config.DetectorType) bool {
	return t == config.DetectorEDM || t == config.DetectorIDM
}
