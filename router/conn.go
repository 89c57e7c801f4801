package router

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
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

// closeGrace bounds writing the last frames and the close frame of a
// connection being closed (other than a slow consumer), and waiting for
// the peer's close reply.
const closeGrace = 5 * time.Second

// slowCloseGrace bounds finishing the frame in flight and writing the 1013
// close frame of a slow consumer before its TCP connection is reset: the
// close frame is best effort, the kernel's buffers are freed at once.
const slowCloseGrace = 100 * time.Millisecond

// errStalled is a blocking write's verdict on a socket that took no byte
// for server.send_timeout.
var errStalled = errors.New("no progress for send_timeout")

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
	queue [][]byte // frames waiting, each a complete WebSocket frame
	// backlog is the bytes queued plus those of the batch in flight that
	// the socket has not taken yet: what server.send_queue bounds.
	backlog int
	// full is set while the socket has not taken all it was given (the
	// batcher's write was partial, or a blocking write is under way): only
	// then is a large backlog the reader's doing rather than the server's.
	full  bool
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
	// slow marks a slow consumer: once its close frame is written, or
	// slowCloseGrace passes, the TCP connection is reset, not half-closed.
	slow bool

	// Guarded by the hub's lock.
	rooms     []membership
	user      *user // set when the connection joins the hub
	userIndex int   // position in user.conns
	inHub     bool
	expiry    *time.Timer // closes the connection when its token expires
	pending   bool        // authenticated by its first message, not yet sent; guarded by mu

	// Owned by gws's read loop (OnPing, OnPong): see allowControl.
	control        bucket
	controlRefused int // control frames refused in a row; while pending, all of them
	// lastPing is the send time (UnixNano) of the heartbeat ping last
	// queued for this connection, until its pong comes; 0: none waiting.
	lastPing atomic.Int64

	// Owned by the message handler (gws runs one at a time, in order).
	limits     buckets
	violations int // refused frames in a row: over a rate, or taken by no route
	faults     int // messages a plugin failed on, over the connection's life
}

// send queues a frame shared with other recipients, for the batcher to
// write. It never blocks: when more than server.send_queue bytes would
// wait, the connection is a slow consumer and is closed.
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
	// The bound is on how far behind the reader is: it applies while the
	// socket is full, not while the server has yet to write to a socket
	// with room (a busy server is not the reader's fault), and one frame
	// always fits an empty queue, whatever its size (max_payload).
	if c.full && c.backlog > 0 && c.backlog+len(frame) > c.router.cfg.Server.SendQueue {
		c.mu.Unlock()
		c.closeSlow()
		return
	}
	c.queue = append(c.queue, frame)
	c.backlog += len(frame)
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
	c.armWriteDeadline()
	c.mu.Unlock()

	n, err := w.writev(c.raw, batch)
	if err != nil {
		c.abort()
		return
	}
	if rest := advance(batch, n); len(rest) > 0 {
		c.mu.Lock()
		c.backlog -= n
		c.full = true
		c.mu.Unlock()
		c.inflight, c.bufs = batch, rest
		go c.flush()
		return
	}
	clear(batch)
	c.mu.Lock()
	c.backlog -= n
	c.full = false
	c.keepSpare(batch)
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
// empty; then it ends a closing connection.
func (c *conn) flush() {
	for {
		c.mu.Lock()
		closing, slow := c.closing, c.slow
		batch := c.inflight // left by writeBatch, already in c.bufs
		if batch == nil {
			if len(c.queue) == 0 {
				c.writing = false
				c.mu.Unlock()
				switch {
				case slow:
					c.abort()
				case closing:
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

		err := c.writeBufs()
		c.bufs = nil
		clear(batch) // frames are shared; let them go as soon as they are written

		c.mu.Lock()
		c.keepSpare(batch)
		c.mu.Unlock()
		if err != nil {
			if errors.Is(err, errStalled) && c.markSlow() {
				c.countSlow()
			}
			c.abort()
			return
		}
	}
}

// writeBufs writes c.bufs, blocking. A socket that takes no byte for
// server.send_timeout fails it with errStalled; one that takes some keeps
// its writer, however slowly it reads. Each write waits at most a quarter
// of send_timeout, so a stall is found between 1 and 1.5 send_timeouts
// after the last byte the socket took, never before.
func (c *conn) writeBufs() error {
	timeout := c.router.cfg.Server.SendTimeout
	progress := time.Now()
	for {
		now := time.Now()
		c.mu.Lock()
		var deadline time.Time
		switch {
		case c.slow:
			deadline = now.Add(slowCloseGrace)
		case c.closing:
			deadline = now.Add(closeGrace)
		default:
			deadline = now.Add(timeout / 4)
		}
		// Under mu, so that closeSlow's deadline is never overwritten by
		// one computed before it.
		_ = c.net.SetWriteDeadline(deadline)
		c.writeDeadline = deadline
		c.full = true
		c.mu.Unlock()

		n, err := c.bufs.WriteTo(c.net)
		now = time.Now()
		if n > 0 {
			progress = now
			c.mu.Lock()
			c.backlog -= int(n)
			c.mu.Unlock()
		}
		switch {
		case err == nil:
			c.mu.Lock()
			c.full = false
			c.mu.Unlock()
			return nil
		case !errors.Is(err, os.ErrDeadlineExceeded) || now.Before(deadline):
			// Failed, or failed before its deadline (a TLS conn
			// stays failed after a timeout): no use trying again.
			return err
		case c.isClosed():
			return err // a closing connection gets one deadline
		case now.Sub(progress) >= timeout:
			return errStalled
		}
	}
}

// keepSpare keeps a written batch's array for the next batch, unless the
// connection is closed and its queue's memory should go. c.mu is held.
func (c *conn) keepSpare(batch [][]byte) {
	if !c.closed {
		c.spare = batch[:0]
	}
}

// armWriteDeadline keeps the socket's write deadline in the future for the
// batcher's non-blocking writes, which never wait for it: a deadline left
// in the past by an earlier write would fail every later one. Re-arming
// costs a timer update, so it is moved only when less than half of
// send_timeout is left. c.mu is held, so that closeSlow's deadline is never
// overwritten by one computed before it.
func (c *conn) armWriteDeadline() {
	now := time.Now()
	if c.slow || !now.After(c.writeDeadline.Add(-c.router.cfg.Server.SendTimeout/2)) {
		return
	}
	c.writeDeadline = now.Add(c.router.cfg.Server.SendTimeout)
	_ = c.net.SetWriteDeadline(c.writeDeadline)
}

// closeSlow closes a slow consumer: its queue is dropped at once, and a
// 1013 close frame is written after the frame in flight if the socket
// takes both within slowCloseGrace; then the TCP connection is reset
// (abort), which frees its kernel buffers at once. A half-close would keep
// them, full of frames the peer is not reading, until the peer reads or
// the kernel gives up (FIN_WAIT). Only the first close of a connection
// counts in slow_consumers_closed_total.
func (c *conn) closeSlow() {
	c.mu.Lock()
	if !c.markSlowLocked() {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.queue = append(c.queue, closeFrame(CloseTryAgainLater, "slow consumer"))
	c.writeDeadline = time.Now().Add(slowCloseGrace)
	_ = c.net.SetWriteDeadline(c.writeDeadline) // also cuts short a write in flight
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	c.countSlow()
	if start {
		go c.flush()
	}
}

// markSlow marks c a slow consumer; false when it was closed already, for
// this or another reason.
func (c *conn) markSlow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.markSlowLocked()
}

func (c *conn) markSlowLocked() bool {
	if c.closed {
		return false
	}
	c.closed, c.slow = true, true
	clear(c.queue)
	c.queue, c.spare, c.backlog = nil, nil, 0
	return true
}

func (c *conn) countSlow() {
	refused.Log(c.router.log, CloseTryAgainLater, "slow consumer", c.remote, "conn", c.id, "user", c.userID)
	if m := c.router.m; m != nil {
		m.slowClosed.Inc()
	}
}

// shutdown queues a close frame and closes the socket once it is written;
// gws's read loop then fails and OnClose removes the connection from the
// hub. Normally the close frame waits behind what is queued (an error
// frame explaining a 4008, say). A slow consumer is closed by closeSlow
// instead, which drops its queue and resets the socket.
func (c *conn) shutdown(code uint16, reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closed, c.closing = true, true
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

// abort resets the connection without (another) close frame: the peer is
// not reading, or a write failed. SO_LINGER 0 makes close send RST and
// free the socket's kernel buffers at once; a plain close would keep
// unsent bytes in them while the kernel retries a peer that reads nothing.
func (c *conn) abort() {
	c.mu.Lock()
	c.closed = true
	clear(c.queue)
	c.queue, c.spare, c.backlog = nil, nil, 0
	c.mu.Unlock()
	nc := c.net
	if t, ok := nc.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		nc = t.NetConn()
	}
	if t, ok := nc.(interface{ SetLinger(int) error }); ok {
		_ = t.SetLinger(0)
	}
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
