package router_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/router"
)

// logCapture collects the router's slog output (JSON lines) for tests.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCapture) option() router.Option {
	return router.WithLogger(slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// refusals returns the "refused" lines logged with code.
func (l *logCapture) refusals(t *testing.T, code int) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(l.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "refused" && m["code"] == float64(code) {
			out = append(out, m)
		}
	}
	return out
}

// expectOnce waits for the refusal with code to be logged, then checks it
// is logged once, at INFO, with a reason and the client's address.
func (l *logCapture) expectOnce(t *testing.T, code int, reason, remote string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(l.refusals(t, code)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a second line would come now
	got := l.refusals(t, code)
	if len(got) != 1 {
		l.mu.Lock()
		defer l.mu.Unlock()
		t.Fatalf("refusal %d logged %d times, want once; log:\n%s", code, len(got), l.buf.String())
	}
	m := got[0]
	if m["level"] != "INFO" || !strings.Contains(fmt.Sprint(m["reason"]), reason) || !strings.HasPrefix(fmt.Sprint(m["remote"]), remote) {
		t.Fatalf("refusal %d logged as %v, want INFO, reason containing %q, remote %s...", code, m, reason, remote)
	}
}

func TestRefusalsLoggedOnce(t *testing.T) {
	t.Run("403 origin", func(t *testing.T) {
		var log logCapture
		s := startServer(t, defaultHCL(t), log.option())
		_, resp, err := s.dialRaw("?token="+token(t, "alice", time.Hour), http.Header{"Origin": {"https://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("want 403, got resp=%v err=%v", resp, err)
		}
		log.expectOnce(t, http.StatusForbidden, "origin", "127.0.0.1:")
		if o := log.refusals(t, http.StatusForbidden)[0]["origin"]; o != "https://evil.example" {
			t.Fatalf("origin attribute = %v", o)
		}
	})
	t.Run("403 origin through a trusted proxy", func(t *testing.T) {
		var log logCapture
		hcl := strings.Replace(defaultHCL(t), "server {", "server {\n  trusted_proxies = [\"127.0.0.1\"]", 1)
		s := startServer(t, hcl, log.option())
		_, _, err := s.dialRaw("", http.Header{"Origin": {"https://evil.example"}, "X-Forwarded-For": {"203.0.113.7"}})
		if err == nil {
			t.Fatal("dial succeeded")
		}
		log.expectOnce(t, http.StatusForbidden, "origin", "203.0.113.7")
	})
	t.Run("429 connect rate", func(t *testing.T) {
		var log logCapture
		s := startServer(t, limitsHCL(`connect_rate = "1/m"`, ""), log.option())
		s.dial("alice")
		_, resp, err := s.dialRaw("?token="+token(t, "alice", time.Hour), nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("want 429, got resp=%v err=%v", resp, err)
		}
		log.expectOnce(t, http.StatusTooManyRequests, "connect rate", "127.0.0.1:")
	})
	t.Run("4001 bad token", func(t *testing.T) {
		var log logCapture
		s := startServer(t, defaultHCL(t), log.option())
		c, _, err := s.dialRaw("?token=not.a.jwt", nil)
		if err != nil {
			t.Fatal(err)
		}
		newClient(t, c, "anon").expectClose(router.CloseUnauthorized)
		log.expectOnce(t, router.CloseUnauthorized, "", "127.0.0.1:")
	})
	t.Run("4001 no auth message in time", func(t *testing.T) {
		var log logCapture
		s := startServer(t, authHCL(`
  token_from            = ["first_message"]
  first_message_timeout = "200ms"
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }`), log.option())
		c, _, err := s.dialRaw("", nil)
		if err != nil {
			t.Fatal(err)
		}
		newClient(t, c, "pending").expectClose(router.CloseUnauthorized)
		log.expectOnce(t, router.CloseUnauthorized, "first_message_timeout", "127.0.0.1:")
	})
	t.Run("4001 token expired", func(t *testing.T) {
		var log logCapture
		s := startServer(t, defaultHCL(t), log.option())
		c, _, err := s.dialRaw("?token="+token(t, "alice", 1500*time.Millisecond), nil)
		if err != nil {
			t.Fatal(err)
		}
		newClient(t, c, "alice").expectClose(router.CloseUnauthorized)
		log.expectOnce(t, router.CloseUnauthorized, "token expired", "127.0.0.1:")
	})
	t.Run("4008 connections per user", func(t *testing.T) {
		var log logCapture
		s := startServer(t, limitsHCL(`connections_per_user = 1`, ""), log.option())
		s.dial("alice")
		c, _, err := s.dialRaw("?token="+token(t, "alice", time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		newClient(t, c, "alice#2").expectClose(router.ClosePolicyViolated)
		log.expectOnce(t, router.ClosePolicyViolated, "too many connections", "127.0.0.1:")
	})
	t.Run("1009 frame too large", func(t *testing.T) {
		var log logCapture
		hcl := strings.Replace(defaultHCL(t), `max_payload       = "64KiB"`, `max_payload       = "1KiB"`, 1)
		s := startServer(t, hcl, log.option())
		c := s.dial("alice")
		c.send(`{"type":"send_message","roomId":"r","text":"` + strings.Repeat("a", 2000) + `"}`)
		c.expectClose(websocket.StatusMessageTooBig)
		log.expectOnce(t, router.CloseTooLarge, "max_payload", "127.0.0.1:")
	})
	t.Run("4008 rate limit", func(t *testing.T) {
		var log logCapture
		s := startServer(t, limitsHCL(`message_rate = "2/m"
close_after = 3`, ""), log.option())
		c := s.dial("alice")
		for i := 0; i < 10; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := c.c.Write(ctx, websocket.MessageText, []byte(`{"type":"echo"}`))
			cancel()
			if err != nil {
				break // closed mid-way
			}
		}
		c.expectClose(router.ClosePolicyViolated)
		log.expectOnce(t, router.ClosePolicyViolated, "rate limit", "127.0.0.1:")
	})
	t.Run("1013 slow consumer", func(t *testing.T) {
		var log logCapture
		hcl := strings.Replace(defaultHCL(t), `send_queue        = 256`, `send_queue        = 4`, 1)
		s := startServer(t, hcl, log.option())
		slow := s.dial("slow") // never reads again
		slow.send(`{"type":"join_room","roomId":"r"}`)
		time.Sleep(100 * time.Millisecond)
		big := strings.Repeat("x", 60000)
		// Until the kernel's buffers between server and peer are full and
		// the queue with them; several senders at once, as in a busy room.
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 500 && s.router.Connections() > 0; i++ {
					_ = s.router.Publish(context.Background(), "r", map[string]string{"type": "bulk", "data": big})
				}
			}()
		}
		wg.Wait()
		log.expectOnce(t, router.CloseTryAgainLater, "slow consumer", "127.0.0.1:")
	})
	// Issue 10 item 2: what gws refuses itself, at the frame level, and the
	// handshakes the router refuses before gws sees them.
	for _, tc := range []struct {
		name   string
		code   int
		reason string
		frame  func(c *rawConn)
	}{
		{"1007 invalid UTF-8", 1007, "not valid UTF-8", func(c *rawConn) { c.writeFrame(0x81, true, []byte("{\"type\":\"\xff\"}")) }},
		{"1007 close reason not UTF-8", 1007, "close frame reason", func(c *rawConn) { c.writeFrame(0x88, true, []byte("\x03\xe8\xff")) }},
		{"1002 RSV1 set", 1002, "protocol error", func(c *rawConn) { c.writeFrame(0xc1, true, []byte(`{"type":"echo"}`)) }},
		{"1002 unmasked frame", 1002, "protocol error", func(c *rawConn) { c.writeFrame(0x81, false, []byte(`{"type":"echo"}`)) }},
		{"1002 126-byte ping", 1002, "protocol error", func(c *rawConn) { c.writeFrame(0x89, true, bytes.Repeat([]byte("p"), 126)) }},
		{"1002 reserved opcode", 1002, "protocol error", func(c *rawConn) { c.writeFrame(0x8b, true, nil) }},
		{"1002 close code 999", 1002, "code 999", func(c *rawConn) { c.writeFrame(0x88, true, []byte{0x03, 0xe7}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log logCapture
			s := startServer(t, defaultHCL(t), log.option())
			c := s.dialRawWS("alice")
			tc.frame(c)
			if got := c.closeCode(); got != tc.code {
				t.Fatalf("closed with %d, want %d", got, tc.code)
			}
			log.expectOnce(t, tc.code, tc.reason, "127.0.0.1:")
			if u := log.refusals(t, tc.code)[0]["user"]; u != "alice" {
				t.Fatalf("user attribute = %v", u)
			}
		})
	}
	t.Run("peer closes not logged", func(t *testing.T) {
		var log logCapture
		s := startServer(t, defaultHCL(t), log.option())
		for _, code := range []uint16{1000, 1001, 4000} {
			c := s.dialRawWS("alice")
			c.writeFrame(0x88, true, binary.BigEndian.AppendUint16(nil, code))
			if got := c.closeCode(); got == 1002 || got == 1007 {
				t.Fatalf("close %d answered with %d", code, got)
			}
		}
		time.Sleep(200 * time.Millisecond)
		log.mu.Lock()
		defer log.mu.Unlock()
		if strings.Contains(log.buf.String(), `"msg":"refused"`) {
			t.Fatalf("a peer's close logged as a refusal:\n%s", log.buf.String())
		}
	})
	const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, tc := range []struct {
		name   string
		head   string
		code   int
		reason string
	}{
		{"405 POST", "POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n", http.StatusMethodNotAllowed, "GET"},
		{"400 no Sec-WebSocket-Key", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n", http.StatusBadRequest, "Sec-WebSocket-Key"},
		{"400 no Connection: Upgrade", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" + key + "Sec-WebSocket-Version: 13\r\n", http.StatusBadRequest, "Connection: Upgrade"},
		{"426 version 8", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 8\r\n", http.StatusUpgradeRequired, "version 13"},
		{"426 plain GET", "GET /ws HTTP/1.1\r\nHost: x\r\n", http.StatusUpgradeRequired, "not a WebSocket upgrade"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log logCapture
			s := startServer(t, defaultHCL(t), log.option())
			_, resp := s.rawRequest(tc.head)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %s, want %d", resp.Status, tc.code)
			}
			log.expectOnce(t, tc.code, tc.reason, "127.0.0.1:")
		})
	}
	t.Run("426 plain GET through a trusted proxy", func(t *testing.T) {
		var log logCapture
		hcl := strings.Replace(defaultHCL(t), "server {", "server {\n  trusted_proxies = [\"127.0.0.1\"]", 1)
		s := startServer(t, hcl, log.option())
		s.rawRequest("GET /ws HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n")
		log.expectOnce(t, http.StatusUpgradeRequired, "not a WebSocket upgrade", "203.0.113.7")
	})
}
