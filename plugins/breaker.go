package plugins

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// breaker is a plugin's circuit breaker: threshold consecutive failed
// calls open it; while open, calls fail at once (kind breaker_open) and
// get the on_error verdict; cooldown after opening, one call is let
// through as a probe, and its success closes the breaker (its failure
// opens it for another cooldown). It exists so that a plugin failing every
// call costs nothing, rather than its full timeout per message.
//
// The closed path is two atomic loads per call; the state changes under mu.
type breaker struct {
	threshold int64 // consecutive failures that open it; 0: off
	cooldown  time.Duration
	log       *slog.Logger

	open  atomic.Bool  // open or probing: calls go through allow's slow path
	fails atomic.Int64 // consecutive failures while closed
	opens atomic.Uint64

	mu       sync.Mutex
	openedAt time.Time
	probing  bool // the probe call is running
}

// allow reports whether a call may run. A call that was allowed must be
// followed by exactly one success or failure.
func (b *breaker) allow() bool {
	if !b.open.Load() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open.Load() { // closed meanwhile
		return true
	}
	if b.probing || time.Since(b.openedAt) < b.cooldown {
		return false
	}
	b.probing = true
	return true
}

func (b *breaker) success() {
	if b.threshold == 0 {
		return
	}
	if b.fails.Load() != 0 {
		b.fails.Store(0)
	}
	if !b.open.Load() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open.Load() {
		b.probing = false
		b.open.Store(false)
		b.fails.Store(0)
		b.log.Info("plugin circuit breaker closed: the probe call succeeded", "open_for", time.Since(b.openedAt).Round(time.Millisecond).String())
	}
}

func (b *breaker) failure() {
	if b.threshold == 0 {
		return
	}
	n := b.fails.Add(1)
	if n < b.threshold && !b.open.Load() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.open.Load() && b.probing: // the probe failed: open for another cooldown
		b.probing = false
		b.openedAt = time.Now()
		b.log.Warn("plugin circuit breaker stays open: the probe call failed", "cooldown", b.cooldown.String())
	case !b.open.Load() && b.fails.Load() >= b.threshold:
		b.open.Store(true)
		b.openedAt = time.Now()
		b.opens.Add(1)
		b.log.Warn("plugin circuit breaker opened: calls fail at once with on_error until a probe succeeds",
			"consecutive_failures", b.fails.Load(), "cooldown", b.cooldown.String())
	}
}

// isOpen reports whether calls are being refused (open, or a probe running).
func (b *breaker) isOpen() bool { return b.open.Load() }
