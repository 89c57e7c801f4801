package router

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// writeBatcher delays the first write of a connection whose queue was
// empty by up to a fixed delay, so that every frame queued for it in the
// meantime leaves in the same writev. On loopback and on most hosts a
// write costs the same few microseconds for one frame as for twenty;
// under fan-out the write count, not the byte count, is what the server
// (and every client) pays for.
//
// When the delay is up the batcher writes itself, one non-blocking writev
// per connection, rather than starting a writer goroutine for each: a
// connection that keeps up takes the whole batch at once. Only what a
// socket does not take goes to a writer goroutine, which may block.
type writeBatcher struct {
	delay time.Duration
	timer *time.Timer

	mu    sync.Mutex
	due   []*conn // connections waiting for the timer
	spare []*conn // the other half of the double buffer; nil while in use
	armed bool

	fireMu sync.Mutex // one fire at a time, because they share w
	w      *rawWriter // nil where there are no non-blocking writes
}

// newWriteBatchers returns one batcher per P, so that writes are spread
// over the cores and no lock is shared by every connection; a delay of
// zero or less writes at once and needs no more than one.
func newWriteBatchers(delay time.Duration) []*writeBatcher {
	n := runtime.GOMAXPROCS(0)
	if delay <= 0 {
		n = 1
	}
	bs := make([]*writeBatcher, n)
	for i := range bs {
		b := &writeBatcher{delay: delay, w: newRawWriter()}
		if delay > 0 {
			b.timer = time.AfterFunc(time.Hour, b.fire)
			b.timer.Stop()
		}
		bs[i] = b
	}
	return bs
}

// schedule has c's queue written when the delay runs out. The caller has
// set c.writing, so c is scheduled once per burst.
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
	// A fire that takes longer than the delay makes the next one wait,
	// and so batch more: under overload writes get larger, not more.
	b.fireMu.Lock()
	defer b.fireMu.Unlock()
	b.mu.Lock()
	batch := b.due
	b.due, b.spare = b.spare[:0], nil
	b.armed = false
	b.mu.Unlock()
	for i, c := range batch {
		c.writeBatch(b.w)
		batch[i] = nil
	}
	b.mu.Lock()
	b.spare = batch[:0]
	b.mu.Unlock()
}

// batcherSeq spreads connections over the batchers.
var batcherSeq atomic.Uint32

func (r *Router) newConn(netConn net.Conn) *conn {
	c := &conn{net: netConn, router: r, batcher: r.batchers[int(batcherSeq.Add(1))%len(r.batchers)]}
	c.raw = rawConnOf(netConn)
	return c
}

// advance drops the first n bytes of bufs, as a write of n bytes does.
func advance(bufs net.Buffers, n int) net.Buffers {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
}
