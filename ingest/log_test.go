package ingest

import (
	"log/slog"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// testLog writes to the test log until the test ends (the writer
// goroutine may log once more while it stops).
func testLog(t testing.TB) *slog.Logger { return testutil.Logger(t) }
