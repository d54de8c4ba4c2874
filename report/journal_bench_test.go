package report

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/metrics"
)

// BenchmarkRecord measures what recording adds to each message: the
// decision line (JSON to a discarding writer), metrics and, for the
// incident case, one JSON line appended to a file. SetBytes is the size
// of the incident line.
func BenchmarkRecord(b *testing.B) {
	line, _ := json.Marshal(newIncident(blockDecision, time.Now()))
	for _, bc := range []struct {
		name string
		sync config.SyncMode
		d    Decision
	}{
		{"pass", "interval", Decision{Frontend: "milter", Envelope: blockDecision.Envelope, Duration: time.Millisecond}},
		{"incident/interval", "interval", blockDecision},
		{"incident/always", "always", blockDecision},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "incidents.jsonl")
			j, err := NewRecorder(config.Incidents{Path: path, Sync: bc.sync, SyncInterval: config.Duration(config.DefaultIncidentSyncInterval)},
				slog.New(slog.NewJSONHandler(discard{}, nil)), metrics.New(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				j.Record(bc.d)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
