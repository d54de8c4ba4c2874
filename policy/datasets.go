package policy

import (
	"context"

	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"

	// Dataset detector types register their openers.
	_ "github.com/maildlp/maildlp/policy/edm"
	_ "github.com/maildlp/maildlp/policy/idm"
)

// matchDatasets runs the dataset detectors (edm, idm) on one part and
// appends their matches to dst. whole is false when the scan deadline
// passed or ctx was cancelled before they were done.
func (e *Engine) matchDatasets(ctx context.Context, p *extract.Part, dst []detect.Match) (_ []detect.Match, whole bool) {
	if len(e.datasets) == 0 {
		return dst, true
	}
	m := &ctxMeter{ctx: ctx}
	part := dataset.Part{Location: p.Location, MIMEType: p.MIMEType, Filename: p.Filename}
	for _, d := range e.datasets {
		var ok bool
		dst, ok = d.Match(p.Text, part, m, dst)
		if !ok {
			return dst, false
		}
	}
	return dst, true
}

// ctxMeter is the [dataset.Meter] of one part: it counts the work and
// looks at ctx (which carries the scan deadline) every ctxMeterEvery
// units.
type ctxMeter struct {
	ctx     context.Context
	work    int64
	next    int64
	expired bool
}

const ctxMeterEvery = 64 << 10

func (m *ctxMeter) Step(n int) bool {
	if m.expired {
		return false
	}
	m.work += int64(n)
	if m.work >= m.next {
		m.next = m.work + ctxMeterEvery
		if m.ctx.Err() != nil {
			m.expired = true
			return false
		}
	}
	return true
}
