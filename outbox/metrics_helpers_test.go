package outbox

import (
	"testing"

	"github.com/maildlp/maildlp/metrics"
)

// gauge and counter read one series from the registry (label value
// matched against any label).
func gauge(t *testing.T, m *metrics.Metrics, name string) float64 {
	return value(t, m, name, "")
}

func counter(t *testing.T, m *metrics.Metrics, name, label string) float64 {
	return value(t, m, name, label)
}

func value(t *testing.T, m *metrics.Metrics, name, label string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			match := label == ""
			for _, lp := range s.GetLabel() {
				if lp.GetValue() == label {
					match = true
				}
			}
			if !match {
				continue
			}
			if g := s.GetGauge(); g != nil {
				return g.GetValue()
			}
			if c := s.GetCounter(); c != nil {
				return c.GetValue()
			}
		}
	}
	return 0
}
