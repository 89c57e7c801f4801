package router_test

import (
	"context"
	"encoding/json"
	"errors"
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
