package router_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/router"
)

const testSecret = "test-secret-for-switchboard"

// server is a real router behind a real listener on 127.0.0.1.
type server struct {
	t      *testing.T
	router *router.Router
	http   *httptest.Server
	url    string // ws://127.0.0.1:port/ws
}

// defaultHCL is the repository's router.hcl with a known JWT secret.
func defaultHCL(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../router.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startServer runs a router for the HCL source. The JWT secret comes from
// SWITCHBOARD_JWT_SECRET, which tests set with t.Setenv.
func startServer(t *testing.T, hcl string, opts ...router.Option) *server {
	t.Helper()
	t.Setenv("SWITCHBOARD_JWT_SECRET", testSecret)
	cfg, err := router.ParseConfig([]byte(hcl), "test.hcl")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	rt, err := router.New(cfg, opts...)
	if err != nil {
		t.Fatalf("router.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", rt)
	hs := httptest.NewServer(mux)
	s := &server{t: t, router: rt, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Close(ctx)
		hs.Close()
	})
	return s
}

func token(t *testing.T, sub string, ttl time.Duration) string {
	t.Helper()
	tok, err := router.IssueToken([]byte(testSecret), sub, ttl, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is a test peer using coder/websocket, a different library from
// the server's gws.
type client struct {
	t    *testing.T
	c    *websocket.Conn
	user string
	in   chan frame // filled by a reader goroutine: a timed-out Read would close the conn
}

type frame struct {
	typ  websocket.MessageType
	data []byte
	err  error
}

func newClient(t *testing.T, c *websocket.Conn, user string) *client {
	cl := &client{t: t, c: c, user: user, in: make(chan frame, 1024)}
	go func() {
		for {
			typ, data, err := c.Read(context.Background())
			cl.in <- frame{typ, data, err}
			if err != nil {
				return
			}
		}
	}()
	return cl
}

// dial connects as user and consumes the "connected" event.
func (s *server) dial(user string) *client {
	s.t.Helper()
	c, _, err := s.dialRaw("?token="+token(s.t, user, time.Hour), nil)
	if err != nil {
		s.t.Fatalf("dial %s: %v", user, err)
	}
	cl := newClient(s.t, c, user)
	m := cl.expect("connected")
	if m["userId"] != user {
		s.t.Fatalf("connected.userId = %v, want %s", m["userId"], user)
	}
	return cl
}

func (s *server) dialRaw(query string, h http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, s.url+query, &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		c.SetReadLimit(1 << 20)
		s.t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

func (c *client) send(msg string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatalf("%s write: %v", c.user, err)
	}
}

// read returns the next message, failing the test after the timeout.
func (c *client) read() map[string]any {
	c.t.Helper()
	m, err := c.readErr(5 * time.Second)
	if err != nil {
		c.t.Fatalf("%s read: %v", c.user, err)
	}
	return m
}

func (c *client) readErr(d time.Duration) (map[string]any, error) {
	var f frame
	select {
	case f = <-c.in:
	case <-time.After(d):
		return nil, context.DeadlineExceeded
	}
	if f.err != nil {
		c.in <- f // stays failed
		return nil, f.err
	}
	typ, data := f.typ, f.data
	if typ != websocket.MessageText {
		return nil, errors.New("got a binary frame")
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// expect reads the next message and checks its type.
func (c *client) expect(typ string) map[string]any {
	c.t.Helper()
	m := c.read()
	if m["type"] != typ {
		c.t.Fatalf("%s: got %v, want type %q", c.user, m, typ)
	}
	return m
}

// expectNothing checks that no message arrives for a short while.
func (c *client) expectNothing() {
	c.t.Helper()
	m, err := c.readErr(150 * time.Millisecond)
	if err == nil {
		c.t.Fatalf("%s: unexpected message %v", c.user, m)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		c.t.Fatalf("%s: connection failed: %v", c.user, err)
	}
}

// expectClose reads until the connection closes and checks the code.
func (c *client) expectClose(code websocket.StatusCode) {
	c.t.Helper()
	for {
		_, err := c.readErr(10 * time.Second)
		if err == nil {
			continue
		}
		if got := websocket.CloseStatus(err); got != code {
			c.t.Fatalf("%s: close status %d (%v), want %d", c.user, got, err, code)
		}
		return
	}
}

func (c *client) join(room string) {
	c.t.Helper()
	c.send(`{"type":"join_room","roomId":"` + room + `"}`)
	if m := c.expect("room_joined"); m["roomId"] != room {
		c.t.Fatalf("room_joined %v", m)
	}
}

// rawConn is a WebSocket client on a bare socket, for frames and
// handshakes no client library would send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// rawRequest sends an HTTP request written out in full (request line and
// header lines, without the final blank line) and returns the response.
func (s *server) rawRequest(head string) (*rawConn, *http.Response) {
	s.t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(s.http.URL, "http://"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, head+"\r\n"); err != nil {
		s.t.Fatal(err)
	}
	rc := &rawConn{t: s.t, nc: nc, br: bufio.NewReader(nc)}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		s.t.Fatalf("response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body.Close()
	}
	return rc, resp
}

// dialRawWS upgrades a bare socket as user.
func (s *server) dialRawWS(user string) *rawConn {
	s.t.Helper()
	rc, resp := s.rawRequest("GET /ws?token=" + token(s.t, user, time.Hour) + " HTTP/1.1\r\nHost: x\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		s.t.Fatalf("upgrade: %s", resp.Status)
	}
	return rc
}

// writeFrame writes one frame: first is the FIN, RSV and opcode byte;
// the payload is masked when mask is set, as a client must (RFC 6455 §5.3).
func (c *rawConn) writeFrame(first byte, mask bool, payload []byte) {
	c.t.Helper()
	f := []byte{first, 0}
	switch n := len(payload); {
	case n <= 125:
		f[1] = byte(n)
	case n <= 0xffff:
		f[1] = 126
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f[1] = 127
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	p := payload
	if mask {
		f[1] |= 0x80
		key := [4]byte{0x12, 0x34, 0x56, 0x78}
		f = append(f, key[:]...)
		p = make([]byte, len(payload))
		for i, b := range payload {
			p[i] = b ^ key[i%4]
		}
	}
	if _, err := c.nc.Write(append(f, p...)); err != nil {
		c.t.Fatalf("write frame: %v", err)
	}
}

// closeCode reads frames until the server's close frame and returns its
// code, or 0 when the socket ends without one.
func (c *rawConn) closeCode() int {
	c.t.Helper()
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return 0
		}
		n := int(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return 0
			}
			n = int(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return 0
			}
			n = int(binary.BigEndian.Uint64(b[:]))
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return 0
		}
		if h[0]&0x0f == 0x8 {
			if n < 2 {
				return 0
			}
			return int(binary.BigEndian.Uint16(p))
		}
	}
}
