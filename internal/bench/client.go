package bench

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

// WebSocket opcodes the client handles.
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// target is a parsed ws:// URL.
type target struct {
	host   string // host:port
	path   string // path and query, without the token
	rcvbuf int    // > 0: the client sockets' SO_RCVBUF
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("bad --url %q: %v", raw, err)
	}
	if u.Scheme != "ws" {
		return target{}, fmt.Errorf("bad --url %q: only ws:// is supported (the bench runs on loopback)", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return target{}, fmt.Errorf("bad --url %q: the bench only targets loopback addresses", raw)
	}
	p := u.RequestURI()
	return target{host: u.Host, path: p}, nil
}

// wsConn is a minimal client WebSocket connection: enough of RFC 6455 for
// unfragmented text frames, ping/pong and close.
type wsConn struct {
	nc      net.Conn
	br      *bufio.Reader
	in      *stampedReader // under br: when the bytes being parsed arrived
	pending int            // bytes of the last frame still in br, discarded on the next read
	big     []byte

	wmu  sync.Mutex // publishers write from the pacer, pongs from the reader
	wbuf []byte
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// dial connects and performs the opening handshake with token in the
// query. bufSize sizes the read buffer: large for fan-out receivers, small
// for the idle scenario so the client's own memory stays modest.
func dial(t target, token string, bufSize int, timeout time.Duration) (*wsConn, error) {
	nc, err := net.DialTimeout("tcp", t.host, timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok && t.rcvbuf > 0 {
		_ = tc.SetReadBuffer(t.rcvbuf)
	}
	_ = nc.SetDeadline(time.Now().Add(timeout))
	var k [16]byte
	binary.LittleEndian.PutUint64(k[:], rand.Uint64())
	binary.LittleEndian.PutUint64(k[8:], rand.Uint64())
	key := base64.StdEncoding.EncodeToString(k[:])
	path := t.path
	if token != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "token=" + url.QueryEscape(token)
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + t.host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		nc.Close()
		return nil, err
	}
	in := &stampedReader{r: nc}
	br := bufio.NewReaderSize(in, bufSize)
	status, err := br.ReadSlice('\n')
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 101 ")) {
		nc.Close()
		return nil, fmt.Errorf("handshake refused: %s", bytes.TrimSpace(status))
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	want := base64.StdEncoding.EncodeToString(sum[:])
	accepted := false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("handshake: %w", err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		if strings.EqualFold(string(name), "Sec-WebSocket-Accept") && string(bytes.TrimSpace(value)) == want {
			accepted = true
		}
	}
	if !accepted {
		nc.Close()
		return nil, errors.New("handshake: missing or wrong Sec-WebSocket-Accept")
	}
	_ = nc.SetDeadline(time.Time{})
	return &wsConn{nc: nc, br: br, in: in}, nil
}

// stampedReader notes when each read from the socket returned: every
// frame in that read arrived then. One clock read per read rather than per
// frame, where the load generator spends its time (frames arrive batched).
type stampedReader struct {
	r  io.Reader
	at time.Time
}

func (s *stampedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.at = time.Now()
	return n, err
}

// arrived is when the bytes of the frame next returned last came off the
// socket (its last bytes, for a frame split over reads).
func (c *wsConn) arrived() time.Time { return c.in.at }

// next returns the next frame. The payload is valid until the next call.
func (c *wsConn) next() (op byte, payload []byte, err error) {
	if c.pending > 0 {
		_, _ = c.br.Discard(c.pending)
		c.pending = 0
	}
	h, err := c.br.Peek(2)
	if err != nil {
		return 0, nil, err
	}
	op, n := h[0]&0x0F, int(h[1]&0x7F)
	masked := h[1]&0x80 != 0
	_, _ = c.br.Discard(2)
	switch n {
	case 126:
		b, err := c.br.Peek(2)
		if err != nil {
			return 0, nil, err
		}
		n = int(binary.BigEndian.Uint16(b))
		_, _ = c.br.Discard(2)
	case 127:
		b, err := c.br.Peek(8)
		if err != nil {
			return 0, nil, err
		}
		n64 := binary.BigEndian.Uint64(b)
		if n64 > 16<<20 {
			return 0, nil, fmt.Errorf("frame of %d bytes: too large for the bench client", n64)
		}
		n = int(n64)
		_, _ = c.br.Discard(8)
	}
	if masked {
		return 0, nil, errors.New("server sent a masked frame")
	}
	if n <= c.br.Size() {
		// Zero copy: the payload stays in the read buffer until next call.
		payload, err = c.br.Peek(n)
		if err != nil {
			return 0, nil, err
		}
		c.pending = n
		return op, payload, nil
	}
	if cap(c.big) < n {
		c.big = make([]byte, n)
	}
	payload = c.big[:n]
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	return op, payload, nil
}

// write sends one masked client frame.
func (c *wsConn) write(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := append(c.wbuf[:0], 0x80|op)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	mask := rand.Uint32()
	b = binary.BigEndian.AppendUint32(b, mask)
	start := len(b)
	b = append(b, payload...)
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], mask)
	for i := range b[start:] {
		b[start+i] ^= m[i&3]
	}
	c.wbuf = b
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

// waitFor reads frames until a text frame containing marker arrives,
// answering pings; it bounds the wait with a read deadline.
func (c *wsConn) waitFor(marker string, timeout time.Duration) error {
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		op, p, err := c.next()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", marker, err)
		}
		switch op {
		case opText:
			if bytes.Contains(p, []byte(marker)) {
				return nil
			}
			if bytes.Contains(p, []byte(`"type":"error"`)) {
				return fmt.Errorf("waiting for %s: server error %s", marker, p)
			}
		case opPing:
			_ = c.write(opPong, append([]byte(nil), p...))
		case opClose:
			code := 0
			if len(p) >= 2 {
				code = int(binary.BigEndian.Uint16(p))
			}
			return fmt.Errorf("waiting for %s: closed by the server with %d %q", marker, code, p[min(2, len(p)):])
		}
	}
}

// close sends a normal close frame and closes the socket without waiting
// for the server's answer.
func (c *wsConn) close() {
	_ = c.write(opClose, []byte{0x03, 0xE8})
	_ = c.nc.Close()
}

// abort closes with a TCP reset: no TIME_WAIT left behind, so the connect
// scenario does not run out of loopback ports.
func (c *wsConn) abort() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.nc.Close()
}
