package extract

import (
	"fmt"
	"testing"
	"time"
)

// costCase is a hostile message whose size grows with n.
type costCase struct {
	name string
	gen  func(n int) []byte // a whole message of roughly n units
	n    int                // the small size; the check also runs 8n
}

// maxCostGrowth is how much more work 8n may cost than n: 8 for linear
// work, with room for fixed costs that do not scale down. A quadratic
// path gives 64.
const maxCostGrowth = 12

// checkLinear extracts c at n and 8n and fails when the work (see meter.go)
// grows faster than linearly. It counts work, never time, so that a loaded
// machine cannot make it flaky.
func checkLinear(t *testing.T, c costCase) {
	t.Helper()
	lim := DefaultLimits()
	lim.ScanTimeout = time.Hour // the count, not the deadline, is under test
	small := run(t, c.gen(c.n), lim)
	big := run(t, c.gen(8*c.n), lim)
	if small.Work <= 0 {
		t.Fatalf("%s: no work counted at n=%d", c.name, c.n)
	}
	ratio := float64(big.Work) / float64(small.Work)
	t.Logf("%s: work %d at n=%d, %d at 8n (x%.1f)", c.name, small.Work, c.n, big.Work, ratio)
	if ratio > maxCostGrowth {
		t.Errorf("%s: work grew x%.1f from n=%d to 8n, want at most x%d (not linear)", c.name, ratio, c.n, maxCostGrowth)
	}
}

// TestCostLinear runs every hostile-input cost case. Extractors add their
// cases to costCases in their own test files.
func TestCostLinear(t *testing.T) {
	for _, c := range costCases {
		t.Run(c.name, func(t *testing.T) { checkLinear(t, c) })
	}
}

// costCases is filled by init functions of the extractors' test files, so
// that each adds its hostile inputs without editing a shared list.
var costCases []costCase

func addCostCase(name string, n int, gen func(n int) []byte) {
	costCases = append(costCases, costCase{name: name, gen: gen, n: n})
}

func init() {
	addCostCase("plain body", 64<<10, func(n int) []byte {
		return fmt.Appendf(nil, "Subject: x\r\n\r\n%s", make([]byte, n))
	})
}
