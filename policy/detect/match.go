package detect

import "fmt"

// Confidence is how sure a detector is that a match is real.
type Confidence int

const (
	Low Confidence = iota + 1
	Medium
	High
)

func (c Confidence) String() string {
	switch c {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return fmt.Sprintf("confidence(%d)", int(c))
}

// ParseConfidence maps low/medium/high to a Confidence.
func ParseConfidence(s string) (Confidence, error) {
	switch s {
	case "low":
		return Low, nil
	case "medium":
		return Medium, nil
	case "high":
		return High, nil
	}
	return 0, fmt.Errorf("unknown confidence %q (want low, medium or high)", s)
}

// Match is one detected value. It never holds the raw value: Evidence is
// masked by the detector (e.g. "****1111") and Key identifies the value
// for counting distinct values without revealing it.
type Match struct {
	Detector   string     // canonical lowercase name, e.g. "credit_card"
	Confidence Confidence // after keyword proximity
	TestValue  bool       // a published test/sample value
	Evidence   string     // masked
	Key        uint64     // hash of the normalised value, for distinct counts
	Start, End int        // byte offsets in the scanned text (for proximity)
	Why        Why        // how the confidence was reached (built-in identifiers)
}

// Detector finds one kind of value in text. Built-in identifiers and
// policy-defined detectors (keywords, regex, dictionaries) implement it.
type Detector interface {
	Name() string
	// Scan appends the matches in text to dst and returns it.
	Scan(text string, dst []Match) []Match
}
