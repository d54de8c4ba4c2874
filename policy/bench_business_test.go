package policy

import (
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// BenchmarkEvaluateBusinessText4K: the 4 KiB order report of the
// end-to-end benchmarks (testutil.OrderReport) through the default
// policy; its cost is paid per message by both front ends.
func BenchmarkEvaluateBusinessText4K(b *testing.B) { benchEvaluate(b, testutil.OrderReport(4096)) }

// BenchmarkEvaluateBusinessText1M: the 1 MiB order report.
func BenchmarkEvaluateBusinessText1M(b *testing.B) { benchEvaluate(b, testutil.OrderReport(1<<20)) }
