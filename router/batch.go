package router

import (
	"sync"
	"time"
)

// writeBatcher delays the first write of a connection whose queue was
// empty by up to a fixed delay, so that every frame queued for it in the
// meantime leaves in the same writev. On loopback and on most hosts a
// write costs the same few microseconds for one frame as for twenty;
// under fan-out the write count, not the byte count, is what the server
// (and every client) pays for. With delay 0 a writer starts at once.
type writeBatcher struct {
	delay time.Duration
	timer *time.Timer

	mu    sync.Mutex
	due   []*conn // connections waiting for the timer
	spare []*conn // the other half of the double buffer; nil while in use
	armed bool
}

func newWriteBatcher(delay time.Duration) *writeBatcher {
	b := &writeBatcher{delay: delay}
	if delay > 0 {
		b.timer = time.AfterFunc(time.Hour, b.fire)
		b.timer.Stop()
	}
	return b
}

// schedule starts c's writer when the delay runs out. The caller has set
// c.writing, so c is scheduled once per burst.
func (b *writeBatcher) schedule(c *conn) {
	if b.delay <= 0 {
		go c.flush()
		return
	}
	b.mu.Lock()
	b.due = append(b.due, c)
	if !b.armed {
		b.armed = true
		b.timer.Reset(b.delay)
	}
	b.mu.Unlock()
}

func (b *writeBatcher) fire() {
	b.mu.Lock()
	batch := b.due
	b.due, b.spare = b.spare[:0], nil
	b.armed = false
	b.mu.Unlock()
	for i, c := range batch {
		go c.flush()
		batch[i] = nil
	}
	b.mu.Lock()
	if b.spare == nil {
		b.spare = batch[:0]
	}
	b.mu.Unlock()
}
