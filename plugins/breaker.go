package plugins

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// breaker is a plugin's circuit breaker. It opens when threshold of the
// last window calls failed and those failures came from at least users
// distinct senders (user IDs; a connect call's remote host): a plugin that
// fails for everyone, not one client that keeps making it fail (the router
// closes that client at close_after). While open, calls fail at once (kind
// breaker_open) and get the on_error verdict. After cooldown the next call
// closes it with an empty window: calls run again, and it opens again once
// they fail at the rate again, so a plugin still broken costs at most
// threshold failed calls per cooldown, and no single call (a probe whoever
// sends) decides.
//
// The closed path is two atomic loads per call while no failure is among
// the last window calls, and an atomic add and a load more while one is. State
// changes and failures take mu.
type breaker struct {
	threshold int // failures among the last window calls that open it; 0: off
	window    int64
	users     int // distinct senders among those failures
	cooldown  time.Duration
	log       *slog.Logger

	open   atomic.Bool  // calls fail at once
	recent atomic.Bool  // a failure is among the last window calls: calls are counted
	calls  atomic.Int64 // calls counted while recent: the window's clock
	last   atomic.Int64 // calls at the latest failure
	opens  atomic.Uint64

	mu       sync.Mutex
	fails    []failure // the failures among the last window calls, oldest first
	openedAt time.Time
}

// failure is one failed call: when (on the calls clock) and whose.
type failure struct {
	at     int64
	sender string
}

// allow reports whether a call may run. A call that was allowed is
// followed by one success or failure.
func (b *breaker) allow() bool {
	if !b.open.Load() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open.Load() { // closed meanwhile
		return true
	}
	if time.Since(b.openedAt) < b.cooldown {
		return false
	}
	b.open.Store(false)
	b.forget() // failures of calls that were running when it opened
	b.log.Info("plugin circuit breaker closed: its cooldown is over, calls run again (it opens again if they keep failing)",
		"open_for", time.Since(b.openedAt).Round(time.Millisecond).String())
	return true
}

func (b *breaker) success() {
	if !b.recent.Load() {
		return
	}
	if n := b.calls.Add(1); n-b.last.Load() < b.window {
		return
	}
	// The last failure left the window: stop counting.
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.calls.Load()-b.last.Load() >= b.window {
		b.forget()
	}
}

// failure counts a failed call by sender.
func (b *breaker) failure(sender string) {
	if b.threshold == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.calls.Add(1)
	b.last.Store(n)
	b.recent.Store(true)
	i := 0
	for i < len(b.fails) && n-b.fails[i].at >= b.window {
		i++
	}
	b.fails = append(b.fails[:0], b.fails[i:]...)
	b.fails = append(b.fails, failure{n, sender})
	if b.open.Load() || len(b.fails) < b.threshold {
		return
	}
	senders := b.senders()
	if senders < b.users {
		return
	}
	b.open.Store(true)
	b.openedAt = time.Now()
	b.opens.Add(1)
	b.log.Warn("plugin circuit breaker opened: calls fail at once with on_error until its cooldown is over",
		"failures", len(b.fails), "window", b.window, "senders", senders, "cooldown", b.cooldown.String())
	b.forget()
}

// senders counts the distinct senders among the failures, up to users.
func (b *breaker) senders() int {
	var seen []string
	for _, f := range b.fails {
		known := false
		for _, s := range seen {
			if s == f.sender {
				known = true
				break
			}
		}
		if !known {
			if seen = append(seen, f.sender); len(seen) == b.users {
				break
			}
		}
	}
	return len(seen)
}

// forget empties the window (mu held).
func (b *breaker) forget() {
	b.fails = b.fails[:0]
	b.recent.Store(false)
}

// isOpen reports whether calls are being refused (until the first call
// after the cooldown).
func (b *breaker) isOpen() bool { return b.open.Load() }
