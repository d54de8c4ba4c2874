package extract

import (
	"context"
	"time"
)

// meterCheckEvery is the work between two looks at the clock: small enough
// that a scan ends within a few milliseconds of its deadline, large enough
// that reading the clock costs nothing measurable.
const meterCheckEvery = 64 << 10

// meter counts the work of one scan and ends it at the deadline.
//
// Every loop over message bytes calls [meter.step] with the bytes it
// examined (or 1 per iteration that examines none), including bytes looked
// at by library searches such as bytes.Index, so that the total is
// proportional to the CPU the scan spent. Cost tests compare the total for
// hostile inputs of size n and 8n: work that grows faster than the input is
// a quadratic path a sender can buy with a small message.
//
// A nil *meter counts nothing and never expires, for helpers called
// outside a scan (tests, benchmarks of one parser).
type meter struct {
	ctx      context.Context // cancelled when the front end gives up
	work     int64
	output   int64 // bytes decoders produced (see produced)
	next     int64 // work at which the clock is read next
	deadline time.Time
	expired  bool
}

func newMeter(ctx context.Context, deadline time.Time) *meter {
	return &meter{ctx: ctx, deadline: deadline, next: meterCheckEvery}
}

// over reads the clock and the context: the deadline has passed, or the
// caller cancelled the scan (a front end that stopped waiting for it).
func (m *meter) over() bool {
	if m.ctx != nil && m.ctx.Err() != nil {
		return true
	}
	return !m.deadline.IsZero() && !time.Now().Before(m.deadline)
}

// step adds n units of work and reports whether the scan may go on. Once
// the deadline has passed or the scan was cancelled it keeps answering false.
func (m *meter) step(n int) bool {
	if m == nil {
		return true
	}
	if m.expired {
		return false
	}
	m.work += int64(n)
	if m.work >= m.next {
		m.next = m.work + meterCheckEvery
		if m.over() {
			m.expired = true
			return false
		}
	}
	return true
}

// produced records n bytes that a decoder made from fewer input bytes
// (decompression, a font map's ranges): work on them is proportional to
// them, not to the message, and the limits bound them instead. Fuzz
// targets bound the work by the input plus this output.
func (m *meter) produced(n int) {
	if m != nil {
		m.output += int64(n)
	}
}

// done reports whether the deadline has passed, reading the clock now.
func (m *meter) done() bool {
	if m == nil {
		return false
	}
	if !m.expired && m.over() {
		m.expired = true
	}
	return m.expired
}

// total is the work counted so far.
func (m *meter) total() int64 {
	if m == nil {
		return 0
	}
	return m.work
}
