package router

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lxzan/gws"
)

// gwsConn is the net.Conn gws reads and writes through. The router writes
// its frames to the socket itself (conn.net), so the only bytes gws writes
// here are the handshake response and the close frame its read loop sends
// when a client breaks the protocol. That frame carries gws's own wording
// ("gws: message too large"); Write puts the router's in its place, so a
// client never sees a library's name or internals.
//
// Close half-closes, as conn.finish does, and drains the input for up to
// closeGrace before closing: gws closes the socket right after its close
// frame, often with the rest of an oversized frame unread, and a full close
// with unread input sends RST, which can destroy the close frame before the
// client reads it.
type gwsConn struct {
	net.Conn
	tooLarge string // the reason of a 1009
	closed   atomic.Bool
	sent     atomic.Uint32 // the code of the close frame gws wrote, 0 if none
}

func (c *gwsConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return c.Conn.Close()
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(closeGrace))
	go func() {
		_, _ = io.Copy(io.Discard, c.Conn)
		_ = c.Conn.Close()
	}()
	return nil
}

func (c *gwsConn) Write(b []byte) (int, error) {
	if len(b) >= 4 && b[0] == 0x80|opClose && len(b) == 2+int(b[1]) {
		// OnClose logs the refusal: gws's error does not always say
		// the code (a bad close code from the peer is a *gws.CloseError).
		c.sent.Store(uint32(binary.BigEndian.Uint16(b[2:4])))
	}
	if f, ok := rewriteClose(b, c.tooLarge); ok {
		if _, err := c.Conn.Write(f); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// rewriteClose returns b with the router's reason if b is exactly one
// unmasked close frame with a protocol-level code (below 3000; the
// router's own 4xxx closes pass as they are) and another reason.
func rewriteClose(b []byte, tooLarge string) ([]byte, bool) {
	if len(b) < 4 || b[0] != 0x80|opClose || b[1] > 125 || len(b) != 2+int(b[1]) {
		return nil, false
	}
	code := binary.BigEndian.Uint16(b[2:4])
	if code >= 3000 {
		return nil, false
	}
	reason := closeReason(code, tooLarge)
	if code == 1000 && strings.Contains(string(b[4:]), "timeout") {
		// gws's read failed at the deadline touch sets: a silent peer.
		reason = "heartbeat timeout: nothing received in time"
	}
	if string(b[4:]) == reason {
		return nil, false
	}
	return closeFrame(code, reason), true
}

// closeReason is the reason the router gives with a protocol-level close
// code (RFC 6455 §7.4.1). Reasons stay within the 123 bytes a close frame
// has room for (§5.5).
func closeReason(code uint16, tooLarge string) string {
	switch code {
	case 1001:
		return "going away"
	case 1002:
		return "WebSocket protocol error"
	case 1003:
		return "unsupported data"
	case 1007:
		return "text frame is not valid UTF-8"
	case 1009:
		return tooLarge
	case 1011:
		return "internal error"
	}
	return "" // 1000 and the rest: the code says it all
}

// protocolRefusal is the reason logged when gws closed the connection
// with code (RFC 6455 §7.4.1) because the peer broke the protocol, or ""
// when code is no refusal (1000: the peer closed or went silent; 1001: a
// write failed). err is what gws passed to OnClose.
func protocolRefusal(code uint16, err error) string {
	var ce *gws.CloseError
	peerClose := errors.As(err, &ce)
	switch code {
	case 1002:
		if peerClose {
			return "close frame with code " + strconv.Itoa(int(ce.Code)) + ", which RFC 6455 §7.4 does not allow"
		}
		return "WebSocket protocol error (reserved bits or opcode, unmasked frame, control frame over 125 bytes or fragmented, bad continuation)"
	case 1007:
		if peerClose {
			return "close frame reason is not valid UTF-8"
		}
		return "text frame is not valid UTF-8"
	case 1009:
		return "frame over max_payload"
	}
	return ""
}

// tooLargeReason is the reason of the 1009 close for a frame over
// max_payload, e.g. "message too large (limit 64 KiB)".
func tooLargeReason(maxPayload int) string {
	return "message too large (limit " + formatSize(maxPayload) + ")"
}

// formatSize writes a byte count as config does: "64 KiB", "1 MiB", or
// "1000 bytes" when it is not a whole number of KiB.
func formatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return plural(n, "byte")
}

// tokenProblem says why a token was refused in the client's terms: the
// JWT library's errors ("token has invalid claims: token is expired") are
// logged, not sent. Errors not from the JWT library are the router's
// own, written for the client.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the token is not a well-formed JWT"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "the token's signature does not verify"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "the token's claims are not valid (issuer, audience or times)"
	}
	return err.Error() // the router's own words (no token, refresh off...)
}

// plural writes a count with its unit: "1 character", "2 characters".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// handshakeProblem checks a request as gws will before upgrading it
// (RFC 6455 §4.2.1), so a bad handshake gets the router's explanation
// instead of gws's "gws: handshake error". It returns the HTTP status and
// the message, or 0. The Upgrade header is checked by the caller.
func handshakeProblem(req *http.Request) (int, string) {
	switch {
	case req.Method != http.MethodGet:
		return http.StatusMethodNotAllowed, "a WebSocket handshake is a GET request"
	case !headerHasToken(req.Header, "Connection", "upgrade"):
		return http.StatusBadRequest, "a WebSocket handshake needs the header Connection: Upgrade"
	case req.Header.Get("Sec-WebSocket-Version") != "13":
		return http.StatusUpgradeRequired, "this server speaks WebSocket version 13 (Sec-WebSocket-Version: 13)"
	case req.Header.Get("Sec-WebSocket-Key") == "":
		return http.StatusBadRequest, "a WebSocket handshake needs the header Sec-WebSocket-Key"
	}
	return 0, ""
}

// headerHasToken reports whether a comma-separated header lists token
// (case-insensitive).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// gwsReadBuffer is gws's read buffer, which it keeps for the connection's
// lifetime; its 4 KiB default would be most of an idle connection's
// memory, and larger frames are read straight into their own buffer.
const gwsReadBuffer = 512

// upgrade hijacks the connection and hands gws a gwsConn over it. It
// returns the socket too, which the router writes to directly.
func (r *Router) upgrade(u *gws.Upgrader, w http.ResponseWriter, req *http.Request) (*gws.Conn, net.Conn, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "this server cannot upgrade the connection", http.StatusInternalServerError)
		return nil, nil, http.ErrNotSupported
	}
	nc, _, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// As gws's own Upgrade does: a reader of ReadBufferSize over the
	// socket (whatever net/http buffered is a handshake's, already read).
	br := bufio.NewReaderSize(nc, gwsReadBuffer)
	ws, err := u.UpgradeFromConn(&gwsConn{Conn: nc, tooLarge: r.tooLarge}, br, req)
	return ws, nc, err
}
