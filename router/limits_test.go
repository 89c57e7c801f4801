package router_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/router"
)

func limitsHCL(limits, routeExtra string) string {
	return `
auth {
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }
}
limits {
` + limits + `
}
route "join_room" {
  action = "join"
  room   = msg.roomId
}
route "echo" {
` + routeExtra + `
  deliver {
    to = "sender"
  }
}
`
}

// countUntilLimited sends n echo messages and returns how many came back
// before the first rate_limited error.
func countUntilLimited(t *testing.T, c *client, n int) (ok int, limited bool) {
	t.Helper()
	for i := 0; i < n; i++ {
		c.send(`{"type":"echo"}`)
	}
	for i := 0; i < n; i++ {
		m := c.read()
		switch {
		case m["type"] == "echo":
			ok++
		case m["type"] == "error" && m["code"] == router.CodeRateLimited:
			limited = true
		default:
			t.Fatalf("unexpected %v", m)
		}
	}
	return ok, limited
}

func TestMessageRates(t *testing.T) {
	t.Run("per connection", func(t *testing.T) {
		s := startServer(t, limitsHCL(`message_rate = "5/m"
close_after = -1`, ""))
		c := s.dial("alice")
		if ok, limited := countUntilLimited(t, c, 8); ok != 5 || !limited {
			t.Fatalf("%d passed (limited %v), want the burst of 5 then errors", ok, limited)
		}
		// Another connection of the same user has its own budget.
		if ok, _ := countUntilLimited(t, s.dial("alice"), 5); ok != 5 {
			t.Fatalf("second connection: %d passed", ok)
		}
	})
	t.Run("per user, across connections", func(t *testing.T) {
		s := startServer(t, limitsHCL(`user_message_rate = "6/m"
close_after = -1`, ""))
		a1, a2, b := s.dial("alice"), s.dial("alice"), s.dial("bob")
		ok1, _ := countUntilLimited(t, a1, 4)
		ok2, limited := countUntilLimited(t, a2, 4)
		if ok1+ok2 != 6 || !limited {
			t.Fatalf("alice passed %d+%d, want 6 in all", ok1, ok2)
		}
		if ok, _ := countUntilLimited(t, b, 4); ok != 4 {
			t.Fatalf("bob is limited by alice's budget: %d", ok)
		}
	})
	t.Run("per route and user", func(t *testing.T) {
		s := startServer(t, limitsHCL(`close_after = -1`, `user_rate = "3/m"`))
		a1, a2 := s.dial("alice"), s.dial("alice")
		ok1, _ := countUntilLimited(t, a1, 2)
		ok2, _ := countUntilLimited(t, a2, 2)
		if ok1+ok2 != 3 {
			t.Fatalf("route user_rate let %d through, want 3", ok1+ok2)
		}
	})
	t.Run("close_after", func(t *testing.T) {
		s := startServer(t, limitsHCL(`message_rate = "1/m"
close_after = 3`, ""))
		c := s.dial("alice")
		for i := 0; i < 4; i++ { // one passes, three errors, then the close
			c.send(`{"type":"echo"}`)
		}
		c.expect("echo")
		for i := 0; i < 3; i++ {
			if m := c.expect("error"); m["code"] != router.CodeRateLimited {
				t.Fatalf("error %v", m)
			}
		}
		c.expectClose(router.ClosePolicyViolated)
	})
}

func TestConnectionLimits(t *testing.T) {
	t.Run("connect rate per IP", func(t *testing.T) {
		s := startServer(t, limitsHCL(`connect_rate = "3/m"`, ""))
		tok := "?token=" + token(t, "alice", time.Hour)
		for i := 0; i < 3; i++ {
			if _, _, err := s.dialRaw(tok, nil); err != nil {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		_, resp, err := s.dialRaw(tok, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("4th attempt: resp=%v err=%v", resp, err)
		}
	})
	t.Run("connect rate per client behind a trusted proxy", func(t *testing.T) {
		// The test's own address, 127.0.0.1, is the proxy.
		hcl := strings.Replace(limitsHCL(`connect_rate = "1/m"`, ""), "auth {", "server {\n  trusted_proxies = [\"127.0.0.1\"]\n}\nauth {", 1)
		s := startServer(t, hcl)
		tok := "?token=" + token(t, "alice", time.Hour)
		from := func(xff string) http.Header { return http.Header{"X-Forwarded-For": {xff}} }
		if _, _, err := s.dialRaw(tok, from("203.0.113.1")); err != nil {
			t.Fatalf("first client: %v", err)
		}
		if _, _, err := s.dialRaw(tok, from("203.0.113.2")); err != nil {
			t.Fatalf("second client, own budget: %v", err)
		}
		// A client cannot pick a fresh address: the proxy appends the
		// real one, and that is what counts.
		_, resp, err := s.dialRaw(tok, from("198.51.100.7, 203.0.113.1"))
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("first client again, spoofed entry in front: resp=%v err=%v", resp, err)
		}
	})
	t.Run("X-Forwarded-For ignored without trusted proxies", func(t *testing.T) {
		s := startServer(t, limitsHCL(`connect_rate = "1/m"`, ""))
		tok := "?token=" + token(t, "alice", time.Hour)
		if _, _, err := s.dialRaw(tok, http.Header{"X-Forwarded-For": {"203.0.113.1"}}); err != nil {
			t.Fatal(err)
		}
		_, resp, err := s.dialRaw(tok, http.Header{"X-Forwarded-For": {"203.0.113.2"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("second attempt from the same peer: resp=%v err=%v", resp, err)
		}
	})
	t.Run("connections per user", func(t *testing.T) {
		s := startServer(t, limitsHCL(`connections_per_user = 2`, ""))
		s.dial("alice")
		s.dial("alice")
		s.dial("bob")
		c, _, err := s.dialRaw("?token="+token(t, "alice", time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		newClient(t, c, "alice#3").expectClose(router.ClosePolicyViolated)
	})
	t.Run("rooms per connection", func(t *testing.T) {
		s := startServer(t, limitsHCL(`rooms_per_connection = 2`, ""))
		c := s.dial("alice")
		c.join("a")
		c.join("b")
		c.join("b") // already in: still fine
		c.send(`{"type":"join_room","roomId":"c"}`)
		if m := c.expect("error"); m["code"] != router.CodeTooManyRooms {
			t.Fatalf("third room: %v", m)
		}
	})
}
