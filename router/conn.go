package router

import (
	"encoding/binary"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-rt/switchboard/internal/refused"
)

// WebSocket close codes the router uses.
const (
	CloseGoingAway      = 1001 // server shutting down
	CloseTooLarge       = 1009 // frame over max_payload (gws sends it)
	CloseTryAgainLater  = 1013 // slow consumer
	CloseUnauthorized   = 4001 // authentication failed or expired
	ClosePolicyViolated = 4008 // kept exceeding rate limits
)

// writeTimeout bounds one flush: a peer that accepts no bytes for this long
// is treated as gone rather than tying up its writer.
const writeTimeout = 10 * time.Second

// closeGrace bounds writing the last frames and the close frame of a
// connection being closed, and waiting for the peer's close reply. A slow
// consumer that is still reading gets its 1013 within it; a dead one costs
// a goroutine for this long.
const closeGrace = 5 * time.Second

// conn is one client connection. Writes go through a bounded queue of
// pre-encoded frames, drained by a writer goroutine that exists only while
// there is something to write, so an idle connection costs no goroutine for
// writing and frames queued together leave in one writev.
type conn struct {
	id     string
	userID string
	claims map[string]any
	// claimsJSON is claims encoded once, for WASM plugins; nil when no
	// plugin runs.
	claimsJSON []byte
	remote     string
	net        net.Conn
	raw        syscall.RawConn // net's socket, for non-blocking writes; nil for TLS
	router     *Router
	batcher    *writeBatcher

	mu    sync.Mutex
	queue [][]byte    // frames waiting, each a complete WebSocket frame
	spare [][]byte    // the other half of the double buffer
	bufs  net.Buffers // what is left of the batch being written; only the writer touches it
	// inflight is the batch being written, when the batcher's
	// non-blocking write left part of it (in bufs) to the writer goroutine.
	inflight [][]byte
	writing  bool // a writer goroutine is draining queue
	// writeDeadline is the socket's write deadline; only the writer
	// goroutine (one at a time, by writing) touches it.
	writeDeadline time.Time
	closed        bool // no more frames are accepted
	closing       bool // a close frame is queued: close the socket once it is written

	// Guarded by the hub's lock.
	rooms     []membership
	user      *user // set when the connection joins the hub
	userIndex int   // position in user.conns
	inHub     bool
	expiry    *time.Timer // closes the connection when its token expires
	pending   bool        // authenticated by its first message, not yet sent; guarded by mu

	// Owned by the message handler (gws runs one at a time, in order).
	limits     buckets
	violations int // refused frames in a row: over a rate, or taken by no route
}

// send queues a frame shared with other recipients, for the batcher to
// write. It never blocks: when the queue is full the connection is a slow
// consumer and is closed.
func (c *conn) send(frame []byte) { c.enqueue(frame, false) }

// reply queues a frame that answers the connection itself (connected,
// acks, errors, a join's reply): it starts a writer at once rather than
// wait for the batcher, since nothing else is likely to share the write
// and the client is waiting for it.
func (c *conn) reply(frame []byte) { c.enqueue(frame, true) }

func (c *conn) enqueue(frame []byte, now bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.router.cfg.Server.SendQueue {
		c.closed = true // senders that also find it full neither log nor count it again
		c.mu.Unlock()
		refused.Log(c.router.log, CloseTryAgainLater, "slow consumer: send queue full", c.remote, "user", c.userID)
		if m := c.router.m; m != nil {
			m.slowClosed.Inc()
		}
		c.shutdown(CloseTryAgainLater, "slow consumer", true)
		return
	}
	c.queue = append(c.queue, frame)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	switch {
	case !start:
	case now:
		go c.flush()
	default:
		c.batcher.schedule(c)
	}
}

// writeBatch is the batcher's write of c's queue: one non-blocking writev,
// which on a connection that keeps up writes everything. What the socket
// does not take now, and the close of a closing connection, go to a writer
// goroutine.
func (c *conn) writeBatch(w *rawWriter) {
	c.mu.Lock()
	if c.raw == nil || c.closing || len(c.queue) == 0 {
		c.mu.Unlock()
		go c.flush()
		return
	}
	batch := c.queue
	c.queue = c.spare[:0]
	c.mu.Unlock()

	c.armWriteDeadline(false)
	n, err := w.writev(c.raw, batch)
	if err != nil {
		c.abort()
		return
	}
	if rest := advance(batch, n); len(rest) > 0 {
		c.inflight, c.bufs = batch, rest
		go c.flush()
		return
	}
	clear(batch)
	c.mu.Lock()
	c.spare = batch[:0]
	switch {
	case len(c.queue) == 0:
		c.writing = false
		c.mu.Unlock()
	case c.closing:
		c.mu.Unlock()
		go c.flush()
	default:
		// Queued while this batch was written: the next round takes it.
		c.mu.Unlock()
		c.batcher.schedule(c)
	}
}

// flush writes everything queued, one writev per batch, until the queue is
// empty.
func (c *conn) flush() {
	for {
		c.mu.Lock()
		closing := c.closing
		batch := c.inflight // left by writeBatch, already in c.bufs
		if batch == nil {
			if len(c.queue) == 0 {
				c.writing = false
				c.mu.Unlock()
				if closing {
					c.finish()
				}
				return
			}
			batch = c.queue
			c.queue = c.spare[:0]
			// A field rather than a local: WriteTo's pointer receiver
			// would make a local escape, an allocation per flush.
			c.bufs = batch
		}
		c.inflight = nil
		c.mu.Unlock()

		c.armWriteDeadline(closing)
		_, err := c.bufs.WriteTo(c.net)
		c.bufs = nil
		clear(batch) // frames are shared; let them go as soon as they are written

		c.mu.Lock()
		c.spare = batch[:0]
		c.mu.Unlock()
		if err != nil {
			c.abort()
			return
		}
	}
}

// armWriteDeadline keeps the socket's write deadline ahead of the write
// about to start; only the writer calls it. Re-arming costs a timer update
// per write; a deadline between writeTimeout/2 and writeTimeout away bounds
// a stuck write just as well, so it is moved only once per writeTimeout/2.
// The batcher's non-blocking writes need it too: a deadline left in the
// past by an earlier write fails every later one.
func (c *conn) armWriteDeadline(closing bool) {
	now := time.Now()
	switch {
	case closing:
		_ = c.net.SetWriteDeadline(now.Add(closeGrace))
	case now.After(c.writeDeadline.Add(-writeTimeout / 2)):
		c.writeDeadline = now.Add(writeTimeout)
		_ = c.net.SetWriteDeadline(c.writeDeadline)
	}
}

// shutdown queues a close frame and closes the socket once it is written;
// gws's read loop then fails and OnClose removes the connection from the
// hub. Normally the close frame waits behind what is queued (an error
// frame explaining a 4008, say). With dropQueued, for a peer that is not
// reading, the queue is dropped and the write in flight gets closeGrace to
// finish: a frame cut in the middle would corrupt the stream, so the close
// frame can only follow a whole one.
func (c *conn) shutdown(code uint16, reason string, dropQueued bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closed, c.closing = true, true
	if dropQueued {
		clear(c.queue)
		c.queue = c.queue[:0]
		_ = c.net.SetWriteDeadline(time.Now().Add(closeGrace))
	}
	c.queue = append(c.queue, closeFrame(code, reason))
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.flush()
	}
}

// finish ends a connection whose close frame is written. It half-closes
// (FIN), so the peer reads every frame and then EOF, where a full close
// with unread input would send RST and could destroy frames still in
// flight; the read loop ends at the peer's close reply or after closeGrace.
func (c *conn) finish() {
	if cw, ok := c.net.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = c.net.SetReadDeadline(time.Now().Add(closeGrace))
		return
	}
	_ = c.net.Close()
}

// isClosed reports whether the connection accepts no more frames; its
// input is ignored from then on.
func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func closeFrame(code uint16, reason string) []byte {
	return encodeFrame(opClose, append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// abort closes the socket without a close frame: the peer is not reading.
func (c *conn) abort() {
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	_ = c.net.Close()
}

// maxFrameHeader is the largest server frame header: room the outbound
// encoder leaves in front of a payload so the frame needs no copy.
const maxFrameHeader = 10

// frameInPlace turns buf, a payload after maxFrameHeader bytes of
// headroom, into a complete frame by writing the header just before the
// payload.
func frameInPlace(buf []byte, opcode byte) []byte {
	payload := buf[maxFrameHeader:]
	n := len(payload)
	var h int
	switch {
	case n < 126:
		h = 2
		buf[maxFrameHeader-1] = byte(n)
	case n <= 0xFFFF:
		h = 4
		buf[maxFrameHeader-3] = 126
		binary.BigEndian.PutUint16(buf[maxFrameHeader-2:], uint16(n))
	default:
		h = 10
		buf[maxFrameHeader-9] = 127
		binary.BigEndian.PutUint64(buf[maxFrameHeader-8:], uint64(n))
	}
	buf[maxFrameHeader-h] = 0x80 | opcode // FIN
	return buf[maxFrameHeader-h:]
}

// encodeFrame builds a complete unmasked server frame for payload, so the
// same bytes can be written to every recipient.
func encodeFrame(opcode byte, payload []byte) []byte {
	buf := make([]byte, maxFrameHeader, maxFrameHeader+len(payload))
	return frameInPlace(append(buf, payload...), opcode)
}

const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)
