package plugins

import (
	"time"

	"sync/atomic"
)

// watchdog stops calls that run past the plugin's timeout (enforceStop).
//
// A call marks its instance running (one atomic store) and done (one CAS);
// the watchdog samples the instances every tick and, when it sees the same
// call running for the timeout, sets the instance's injected stop global:
// the guest traps at its next loop header. A call is therefore stopped
// between timeout and timeout + 2 ticks after it started. After a second
// with no call running the watchdog parks and costs nothing; the next call
// wakes it.
type watchdog struct {
	p      *Plugin
	tick   time.Duration
	parked atomic.Bool
	wakeC  chan struct{}
	stopC  chan struct{}
	doneC  chan struct{}
}

func newWatchdog(p *Plugin) *watchdog {
	return &watchdog{
		p:     p,
		tick:  max(p.timeout/4, time.Millisecond),
		wakeC: make(chan struct{}, 1),
		stopC: make(chan struct{}),
		doneC: make(chan struct{}),
	}
}

// wake is called by a call that found the watchdog parked.
func (w *watchdog) wake() {
	if w.parked.CompareAndSwap(true, false) {
		select {
		case w.wakeC <- struct{}{}:
		default:
		}
	}
}

func (w *watchdog) stop() {
	close(w.stopC)
	<-w.doneC
}

func (w *watchdog) run() {
	defer close(w.doneC)
	t := time.NewTicker(w.tick)
	defer t.Stop()
	parkAfter := max(int(time.Second/w.tick), 3)
	idle := 0
	for {
		select {
		case <-w.stopC:
			return
		case <-t.C:
		}
		if w.scan() {
			idle = 0
			continue
		}
		if idle++; idle < parkAfter {
			continue
		}
		// Park. A call stores its running state before it loads parked, and
		// we store parked before we scan again, so (atomics being
		// sequentially consistent) either that scan sees the call or the
		// call sees parked and wakes us.
		w.parked.Store(true)
		if w.scan() {
			w.parked.Store(false)
			idle = 0
			continue
		}
		t.Stop()
		select {
		case <-w.stopC:
			return
		case <-w.wakeC:
		}
		idle = 0
		t.Reset(w.tick)
	}
}

// scan stops overdue calls and reports whether any call is running.
func (w *watchdog) scan() bool {
	now := time.Now()
	running := false
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	for _, inst := range w.p.live {
		s := inst.state.Load()
		if s&1 == 0 {
			continue
		}
		running = true
		if s != inst.seenState {
			inst.seenState, inst.seenAt = s, now
			continue
		}
		if s&2 == 0 && now.Sub(inst.seenAt) >= w.p.timeout {
			inst.killMu.Lock()
			if inst.state.CompareAndSwap(s, s|2) {
				inst.stop.Set(1)
			}
			inst.killMu.Unlock()
		}
	}
	return running
}
