package main

import (
	"bufio"
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"syscall"

	"github.com/switchboard-rt/switchboard/internal/refused"
)

// net/http answers a request whose header exceeds MaxHeaderBytes itself,
// with this status line and before any handler runs; the only place to
// see it is the connection it is written to.
var status431 = []byte("HTTP/1.1 431 ")

// logListener logs the 431s net/http writes on its connections as
// refusals, like every other refusal (internal/refused). The address is the
// TCP peer's: the X-Forwarded-For a trusted proxy added is in the header
// that was too large to read.
type logListener struct {
	net.Listener
	log *slog.Logger
}

func (l logListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &logConn{Conn: c, log: l.log}
	if tcp, ok := c.(*net.TCPConn); ok {
		return &logTCPConn{lc, tcp}, nil
	}
	return lc, nil
}

type logConn struct {
	net.Conn
	log *slog.Logger
}

func (c *logConn) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, status431) {
		refused.Log(c.log, http.StatusRequestHeaderFieldsTooLarge, "request header over max_header_bytes", c.RemoteAddr().String())
	}
	return c.Conn.Write(p)
}

// logTCPConn keeps what net/http and the router use of a *net.TCPConn
// visible: half-close, and the socket for non-blocking writes.
type logTCPConn struct {
	*logConn
	tcp *net.TCPConn
}

func (c *logTCPConn) CloseWrite() error                     { return c.tcp.CloseWrite() }
func (c *logTCPConn) SyscallConn() (syscall.RawConn, error) { return c.tcp.SyscallConn() }

// unwrapHijack hands the router the connection under a logConn when it
// takes a request over: a WebSocket needs no 431 detection, and the
// router's writev (net.Buffers) reaches the socket only through the
// *net.TCPConn (or *tls.Conn) itself.
func unwrapHijack(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(hijacker{w}, r)
	})
}

type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	switch lc := c.(type) {
	case *logTCPConn:
		c = lc.tcp
	case *logConn:
		c = lc.Conn
	}
	return c, rw, err
}
