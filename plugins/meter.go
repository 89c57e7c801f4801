package plugins

import (
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// meter decides when a call has run past its timeout, counting the time
// the guest ran rather than the time that passed.
//
// The injected code exits to Go every yieldEvery loop iterations (see
// injectStop), and each exit calls yield on the guest's own goroutine. The
// time between two consecutive yields is the guest's work plus whatever
// kept its goroutine off the CPU in between: preemption by the Go
// scheduler, the OS scheduler, a GC pause. A spinning guest shows a steady
// run of short gaps (microseconds); a goroutine that was descheduled shows
// one long gap among short ones. So each gap counts in full up to a cap,
// the larger of timeout/16 and 4× the previous gap's count: one delay
// counts at most timeout/16 (a call must be delayed in 16 separate gaps,
// or in three running, to fail for it), while a guest whose every gap is
// long (heavy iterations, slow host calls) has its cap grow fourfold per
// yield and is soon counted in full. Time before the first yield of a call
// and after its last one is not counted: at most two gaps, microseconds for
// a spinning guest.
//
// When the count reaches the timeout, yield leaves the guest's $stop
// global set and the guest traps right after the exit. Nothing runs
// beside the call: no watchdog, no atomics; a call only resets the meter.
type meter struct {
	stop    api.MutableGlobal // the injected $stop global
	closed  *atomic.Bool      // the plugin is closing: running calls stop at their next yield
	timeout time.Duration
	floor   time.Duration // the smallest cap: timeout/16

	active  bool          // a call is running (instantiation is not timed)
	started bool          // last is set: the call has yielded once
	stopped bool          // the call ran out of time
	last    time.Duration // since epoch, at the previous yield
	prev    time.Duration // the previous gap's count
	used    time.Duration // counted so far
}

// epoch makes monotonic readings cheap: time.Since on a time with a
// monotonic reading is one clock read.
var epoch = time.Now()

func newMeter(stop api.MutableGlobal, closed *atomic.Bool, timeout time.Duration) *meter {
	return &meter{stop: stop, closed: closed, timeout: timeout, floor: max(timeout/16, time.Microsecond)}
}

// begin resets the meter for a call.
func (m *meter) begin() {
	m.active, m.started, m.stopped = true, false, false
	m.prev, m.used = 0, 0
}

// end reports whether the call was stopped.
func (m *meter) end() (stopped bool) {
	m.active = false
	return m.stopped
}

// yield is called at each of the guest's exits to Go, $stop being set.
func (m *meter) yield() {
	if !m.active {
		m.stop.Set(0)
		return
	}
	if m.closed.Load() { // shutting down: stop now rather than at the timeout
		m.stopped = true
		return
	}
	now := time.Since(epoch)
	if m.started {
		gap := min(now-m.last, max(m.floor, 4*m.prev))
		m.prev = gap
		if m.used += gap; m.used >= m.timeout {
			m.stopped = true
			return // $stop stays set: the guest traps
		}
	}
	m.started, m.last = true, now
	m.stop.Set(0)
}
