package router

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/router/config"
)

// loopbackConn returns a router connection over a real loopback TCP
// socket and the client's end of it.
func loopbackConn(t *testing.T, writeDelay time.Duration) (*conn, net.Conn) {
	return loopbackConnAs(t, writeDelay, func(c net.Conn) net.Conn { return c })
}

// opaqueConn hides the socket behind a net.Conn, as *tls.Conn does: no
// syscall.Conn, so no non-blocking writes.
type opaqueConn struct{ net.Conn }

func loopbackConnAs(t *testing.T, writeDelay time.Duration, wrap func(net.Conn) net.Conn) (*conn, net.Conn) {
	t.Helper()
	r, err := New(&config.Config{Server: config.Server{WriteDelay: writeDelay}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); client.Close() })
	c := r.newConn(wrap(srv))
	c.id = "c"
	return c, client
}

// expectBytes reads len(want) bytes from client within d and checks they
// are want.
func expectBytes(t *testing.T, client net.Conn, want []byte, d time.Duration) {
	t.Helper()
	_ = client.SetReadDeadline(time.Now().Add(d))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("%d bytes not read within %v: %v", len(want), d, err)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("byte %d of %d differs: got %q, want %q", i, len(want), got[max(0, i-8):min(len(got), i+8)], want[max(0, i-8):min(len(want), i+8)])
		}
	}
}

// TestWriteDelayBatches: frames queued within the delay wait for it and
// leave together, in one write the client reads at once.
func TestWriteDelayBatches(t *testing.T) {
	const delay = 300 * time.Millisecond
	c, client := loopbackConn(t, delay)
	frames := [][]byte{encodeFrame(opText, []byte("one")), encodeFrame(opText, []byte("two")), encodeFrame(opText, []byte("three"))}
	want := bytes.Join(frames, nil)

	start := time.Now()
	for _, f := range frames {
		c.send(f)
	}
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1024)
	n, err := client.Read(buf)
	waited := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if waited < delay*9/10 {
		t.Errorf("first bytes after %v, before the %v write delay", waited, delay)
	}
	if !bytes.Equal(buf[:n], want) {
		t.Errorf("first read got %q, want all three frames in one write: %q", buf[:n], want)
	}

	// The delay is per burst: the next frame waits again rather than
	// leaving at once behind the last write.
	c.send(frames[0])
	start = time.Now()
	n, err = client.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < delay*8/10 {
		t.Errorf("second burst after %v, before the %v write delay", waited, delay)
	}
	if !bytes.Equal(buf[:n], frames[0]) {
		t.Errorf("second read got %q, want %q", buf[:n], frames[0])
	}
}

// TestWriteDelayOff: a negative delay ("0s" in HCL) writes each burst at
// once, and still writes everything queued.
func TestWriteDelayOff(t *testing.T) {
	c, client := loopbackConn(t, -1)
	if c.batcher.delay > 0 {
		t.Fatalf("delay %v, want writes at once", c.batcher.delay)
	}
	var want []byte
	for _, s := range []string{"a", "b", "c"} {
		f := encodeFrame(opText, []byte(s))
		want = append(want, f...)
		c.send(f)
	}
	expectBytes(t, client, want, 10*time.Second)
}

// TestWriteBatchPartial: a client that stops reading fills its socket; the
// batcher's non-blocking write then leaves the rest to a writer goroutine,
// and once the client reads again every byte arrives, in order.
func TestWriteBatchPartial(t *testing.T) {
	c, client := loopbackConn(t, time.Millisecond)
	if c.raw == nil {
		t.Skip("no non-blocking writes on this platform")
	}
	c.router.cfg.Server.SendQueue = 16 << 20 // more than is sent: slow consumers are not the subject
	var want []byte
	for i := range 120 {
		f := encodeFrame(opText, bytes.Repeat([]byte{'a' + byte(i%26)}, 60<<10))
		want = append(want, f...)
		c.send(f)
		if i%10 == 9 {
			time.Sleep(3 * time.Millisecond) // let the batcher write what is queued
		}
	}
	expectBytes(t, client, want, 20*time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.queue) != 0 {
		t.Errorf("after the drain: closed %v, %d frames queued", c.closed, len(c.queue))
	}
}

// TestReplyNotDelayed: a frame answering the connection itself (connected,
// an ack, an error) is written at once, not held for the write delay.
func TestReplyNotDelayed(t *testing.T) {
	c, client := loopbackConn(t, time.Second) // the longest allowed
	f := encodeFrame(opText, []byte(`{"type":"connected"}`))
	c.reply(f)
	expectBytes(t, client, f, 800*time.Millisecond) // before the 1s delay
}

// TestWriteBatchAfterDeadline: the write deadline an earlier write set
// must not fail the batcher's writes once it has passed (it did: every
// connection was dropped send_timeout after its last blocking write).
func TestWriteBatchAfterDeadline(t *testing.T) {
	c, client := loopbackConn(t, time.Millisecond)
	// As a blocking write send_timeout ago would have left it.
	c.writeDeadline = time.Now().Add(-time.Second)
	_ = c.net.SetWriteDeadline(c.writeDeadline)
	f := encodeFrame(opText, []byte("late"))
	c.send(f)
	expectBytes(t, client, f, 10*time.Second)
}

// TestWriteBatchWithoutRawConn: over a connection that is not a plain
// socket (TLS), the batcher hands each due connection to a writer
// goroutine, and batching still holds.
func TestWriteBatchWithoutRawConn(t *testing.T) {
	c, client := loopbackConnAs(t, 200*time.Millisecond, func(c net.Conn) net.Conn { return opaqueConn{c} })
	if c.raw != nil {
		t.Fatal("raw access through a wrapped conn")
	}
	frames := [][]byte{encodeFrame(opText, []byte("x")), encodeFrame(opText, []byte("y"))}
	start := time.Now()
	for _, f := range frames {
		c.send(f)
	}
	expectBytes(t, client, bytes.Join(frames, nil), 10*time.Second)
	if waited := time.Since(start); waited < 180*time.Millisecond {
		t.Errorf("written after %v, before the 200ms write delay", waited)
	}
}
