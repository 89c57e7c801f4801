package router

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// TestSlowConsumerGets1013: a slow consumer whose socket has room for it
// gets its 1013 close frame, after whole frames only, and then the reset;
// the queue it had is dropped, not written.
func TestSlowConsumerGets1013(t *testing.T) {
	c, client := loopbackConn(t, 300*time.Millisecond) // everything below is queued within the delay
	c.router.cfg.Server.SendQueue = 16 << 10
	c.mu.Lock()
	c.full = true // as a partial write leaves it; the reader has since made room
	c.mu.Unlock()
	f := encodeFrame(opText, bytes.Repeat([]byte{'x'}, 1000))
	for range 40 {
		c.send(f)
	}
	if !c.isClosed() {
		t.Fatal("40 KB over a 16 KiB bound did not close the connection")
	}
	want := closeFrame(CloseTryAgainLater, "slow consumer")
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(client)
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes %q (%v), want the close frame %q", len(got), got[:min(len(got), 40)], err, want)
	}
	if err == nil {
		t.Error("connection ended with a FIN, want a reset")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.queue != nil || c.spare != nil || c.backlog != 0 {
		t.Errorf("queue kept after the close: %d frames, spare %d, backlog %d", len(c.queue), cap(c.spare), c.backlog)
	}
}

// TestSlowBoundWaitsForFullSocket: a backlog over send_queue that the
// server has not yet tried to write (the socket has room: the server, not
// the reader, is behind) does not close the connection.
func TestSlowBoundWaitsForFullSocket(t *testing.T) {
	c, client := loopbackConn(t, 300*time.Millisecond)
	c.router.cfg.Server.SendQueue = 16 << 10
	f := encodeFrame(opText, bytes.Repeat([]byte{'x'}, 1000))
	var want []byte
	for range 40 {
		c.send(f)
		want = append(want, f...)
	}
	if c.isClosed() {
		t.Fatal("closed before the socket was ever full")
	}
	expectBytes(t, client, want, 10*time.Second)
}
