package router_test

import (
	"bytes"
	"context"
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
}
