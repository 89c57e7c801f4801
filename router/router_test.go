package router_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/router"
)

func TestDefaultProtocol(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	alice, bob, carol := s.dial("alice"), s.dial("bob"), s.dial("carol")

	alice.join("lobby")
	bob.join("lobby")
	if m := alice.expect("user_joined"); m["roomId"] != "lobby" || m["userId"] != "bob" {
		t.Fatalf("user_joined = %v", m)
	}

	// send_message reaches the room except the sender, with the server's
	// userId (not the spoofed one), ts and id; unknown fields are dropped.
	alice.send(`{"type":"send_message","roomId":"lobby","text":"hi <b>","replyTo":"m1","userId":"mallory","extra":1}`)
	m := bob.expect("message_received")
	if m["roomId"] != "lobby" || m["text"] != "hi <b>" || m["userId"] != "alice" || m["replyTo"] != "m1" {
		t.Fatalf("message_received = %v", m)
	}
	if _, ok := m["ts"].(float64); !ok {
		t.Fatalf("no numeric ts: %v", m)
	}
	if id, _ := m["id"].(string); id == "" {
		t.Fatalf("no id: %v", m)
	}
	if _, ok := m["extra"]; ok {
		t.Fatalf("undeclared field relayed: %v", m)
	}
	alice.expectNothing() // not echoed to the sender
	carol.expectNothing() // not in the room

	bob.send(`{"type":"typing_start","roomId":"lobby"}`)
	if m := alice.expect("typing_start"); m["roomId"] != "lobby" || m["userId"] != "bob" {
		t.Fatalf("typing_start = %v", m)
	}
	bob.send(`{"type":"typing_stop","roomId":"lobby"}`)
	if m := alice.expect("typing_stop"); m["userId"] != "bob" {
		t.Fatalf("typing_stop = %v", m)
	}

	bob.send(`{"type":"leave_room","roomId":"lobby"}`)
	if m := bob.expect("room_left"); m["roomId"] != "lobby" {
		t.Fatalf("room_left = %v", m)
	}
	if m := alice.expect("user_left"); m["userId"] != "bob" || m["roomId"] != "lobby" {
		t.Fatalf("user_left = %v", m)
	}

	// Disconnecting leaves every room.
	carol.join("lobby")
	alice.expect("user_joined")
	_ = carol.c.Close(websocket.StatusNormalClosure, "bye")
	if m := alice.expect("user_left"); m["userId"] != "carol" {
		t.Fatalf("user_left after disconnect = %v", m)
	}
}

func TestSendRequiresMembership(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	alice, bob := s.dial("alice"), s.dial("bob")
	bob.join("secret")
	alice.send(`{"type":"send_message","roomId":"secret","text":"let me in","id":"x1"}`)
	if m := alice.expect("error"); m["code"] != router.CodeNotMember || m["id"] != "x1" {
		t.Fatalf("error = %v", m)
	}
	bob.expectNothing()
	// Another user's private room cannot be joined.
	alice.send(`{"type":"join_room","roomId":"user:bob"}`)
	if m := alice.expect("error"); m["code"] != router.CodeForbidden {
		t.Fatalf("error = %v", m)
	}
}

func TestEnvelopeErrorsKeepConnectionOpen(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	c := s.dial("alice")
	long := strings.Repeat("é", 2001) // runes, not bytes, count
	cases := []struct {
		name, msg, code, id string
	}{
		{"bad json", `{"type":`, router.CodeBadJSON, ""},
		{"not an object", `[1,2]`, router.CodeBadJSON, ""},
		{"control char in string", "{\"type\":\"send_message\",\"text\":\"a\x01\"}", router.CodeBadJSON, ""},
		{"missing type", `{"roomId":"a"}`, router.CodeMissingType, ""},
		{"type not a string", `{"type":7}`, router.CodeMissingType, ""},
		{"unknown type", `{"type":"nope","id":"u1"}`, router.CodeUnknownType, "u1"},
		{"bad id", `{"type":"join_room","id":{}}`, router.CodeBadID, ""},
		{"missing required", `{"type":"send_message","roomId":"r","id":"s1"}`, router.CodeInvalidField, "s1"},
		{"wrong field type", `{"type":"send_message","roomId":"r","text":5}`, router.CodeInvalidField, ""},
		{"empty text", `{"type":"send_message","roomId":"r","text":""}`, router.CodeInvalidField, ""},
		{"text too long", `{"type":"send_message","roomId":"r","text":"` + long + `"}`, router.CodeInvalidField, ""},
		{"room id too long", `{"type":"join_room","roomId":"` + strings.Repeat("r", 129) + `"}`, router.CodeInvalidField, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.send(tc.msg)
			m := c.expect("error")
			if m["code"] != tc.code {
				t.Fatalf("code = %v, want %s (%v)", m["code"], tc.code, m)
			}
			if msg, _ := m["message"].(string); msg == "" {
				t.Fatalf("no message: %v", m)
			}
			if tc.id != "" && m["id"] != tc.id {
				t.Fatalf("id = %v, want %s", m["id"], tc.id)
			}
		})
	}
	// Still open and working; a client id gets an ack, numeric ids too.
	c.send(`{"type":"join_room","roomId":"ok","id":"j1"}`)
	c.expect("room_joined")
	if m := c.expect("ack"); m["id"] != "j1" {
		t.Fatalf("ack = %v", m)
	}
	c.send(`{"type":"send_message","roomId":"ok","text":"x","id":42}`)
	if m := c.expect("ack"); m["id"] != float64(42) {
		t.Fatalf("ack = %v", m)
	}
	// Binary frames are refused, connection stays.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageBinary, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if m := c.expect("error"); m["code"] != router.CodeBinary {
		t.Fatalf("binary: %v", m)
	}
	c.send(`{"type":"leave_room","roomId":"ok"}`)
	c.expect("room_left")
}

func TestMaxPayloadCloses1009(t *testing.T) {
	hcl := strings.Replace(defaultHCL(t), `max_payload       = "64KiB"`, `max_payload       = "1KiB"`, 1)
	s := startServer(t, hcl)
	c := s.dial("alice")
	c.send(`{"type":"send_message","roomId":"r","text":"` + strings.Repeat("a", 2000) + `"}`)
	c.expectClose(websocket.StatusMessageTooBig)
}

// TestOrigin: without allowed_origins (the default config) a page served
// from the address the browser connects to may connect, whatever the port;
// with a list, exactly the origins it matches.
func TestOrigin(t *testing.T) {
	tok := "?token=" + token(t, "alice", time.Hour)
	same := startServer(t, defaultHCL(t))
	port := strings.TrimSuffix(strings.TrimPrefix(same.url, "ws://127.0.0.1:"), "/ws")
	wildcard := startServer(t, strings.Replace(defaultHCL(t), "server {", "server {\n  allowed_origins = [\"http://127.0.0.1:*\", \"https://*.example.com\"]", 1))
	wport := strings.TrimSuffix(strings.TrimPrefix(wildcard.url, "ws://127.0.0.1:"), "/ws")
	cases := []struct {
		name   string
		s      *server
		host   string // dial this host instead of 127.0.0.1 (the browser's Host)
		origin string
		ok     bool
	}{
		{"no origin", same, "", "", true}, // non-browser clients send none
		{"same origin", same, "", "http://127.0.0.1:" + port, true},
		{"same origin, upper case", same, "", "HTTP://127.0.0.1:" + port, true},
		{"behind a TLS proxy", same, "", "https://127.0.0.1:" + port, true},
		{"localhost", same, "localhost", "http://localhost:" + port, true},
		{"localhost page, 127.0.0.1 socket", same, "", "http://localhost:" + port, false},
		{"another port", same, "", "http://127.0.0.1:1", false},
		{"foreign", same, "", "https://evil.example", false},
		{"null", same, "", "null", false},
		{"port wildcard", wildcard, "", "http://127.0.0.1:1234", true},
		{"port wildcard, default port", wildcard, "", "http://127.0.0.1", true},
		{"port wildcard, other host", wildcard, "", "http://localhost:1234", false},
		{"port wildcard, other scheme", wildcard, "", "https://127.0.0.1:1234", false},
		{"subdomain wildcard", wildcard, "", "https://app.example.com", true},
		{"subdomain wildcard, apex", wildcard, "", "https://example.com", false},
		{"list replaces same origin", wildcard, "localhost", "http://localhost:" + wport, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			url := tc.s.url
			if tc.host != "" {
				url = strings.Replace(url, "127.0.0.1", tc.host, 1)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, url+tok, &websocket.DialOptions{HTTPHeader: h})
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				_ = c.CloseNow()
				return
			}
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("want 403, got resp=%v err=%v", resp, err)
			}
		})
	}
}

func TestAuthRejection(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	expired, _ := router.IssueToken([]byte(testSecret), "alice", -time.Minute, nil)
	wrongKey, _ := router.IssueToken([]byte("another secret"), "alice", time.Hour, nil)
	noSub, _ := router.IssueToken([]byte(testSecret), "", time.Hour, nil)
	for name, q := range map[string]string{
		"no token":  "",
		"garbage":   "?token=not.a.jwt",
		"expired":   "?token=" + expired,
		"wrong key": "?token=" + wrongKey,
		"no sub":    "?token=" + noSub,
	} {
		t.Run(name, func(t *testing.T) {
			c, _, err := s.dialRaw(q, nil)
			if err != nil {
				t.Fatalf("close mode must accept the upgrade: %v", err)
			}
			newClient(t, c, name).expectClose(router.CloseUnauthorized)
		})
	}

	t.Run("reject_with http", func(t *testing.T) {
		hcl := strings.Replace(defaultHCL(t), `reject_with = "close"`, `reject_with = "http"`, 1)
		s := startServer(t, hcl)
		_, resp, err := s.dialRaw("?token="+expired, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("want 401, got resp=%v err=%v", resp, err)
		}
	})
}

func TestRateLimitThenClose4008(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	c := s.dial("alice")
	c.join("r")
	// typing_start allows 5/s: the burst passes, then rate_limited errors,
	// and a client that keeps going is closed.
	limited := 0
	go func() {
		// The server may close mid-way: write errors are expected.
		for i := 0; i < 40; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := c.c.Write(ctx, websocket.MessageText, []byte(`{"type":"typing_start","roomId":"r","id":`+fmt.Sprint(i)+`}`))
			cancel()
			if err != nil {
				return
			}
		}
	}()
	for {
		m, err := c.readErr(5 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != router.ClosePolicyViolated {
				t.Fatalf("closed with %v, want 4008", err)
			}
			break
		}
		if m["type"] == "error" {
			if m["code"] != router.CodeRateLimited {
				t.Fatalf("error = %v", m)
			}
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no rate_limited error before the close")
	}
}

func TestUserDeliveryReachesAllConnections(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	a1, a2, b := s.dial("alice"), s.dial("alice"), s.dial("bob")
	if err := s.router.SendToUser(context.Background(), "alice", map[string]any{"type": "notice", "text": "hello"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{a1, a2} {
		if m := c.expect("notice"); m["text"] != "hello" {
			t.Fatalf("notice = %v", m)
		}
	}
	b.expectNothing()

	// A user's two connections in a room: user_left only when the last goes.
	a1.join("r")
	a2.join("r")
	b.join("r")
	a1.expect("user_joined")
	a2.expect("user_joined")
	a1.send(`{"type":"leave_room","roomId":"r"}`)
	a1.expect("room_left")
	b.expectNothing()
	a2.send(`{"type":"leave_room","roomId":"r"}`)
	a2.expect("room_left")
	if m := b.expect("user_left"); m["userId"] != "alice" {
		t.Fatalf("user_left = %v", m)
	}
}

func TestPublishAndBroadcast(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	a, b := s.dial("alice"), s.dial("bob")
	a.join("news")
	if err := s.router.Publish(context.Background(), "news", []byte(`{"type":"headline","title":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if m := a.expect("headline"); m["title"] != "x" || m["id"] == nil || m["ts"] == nil {
		t.Fatalf("headline = %v", m)
	}
	b.expectNothing()
	if err := s.router.Publish(context.Background(), "news", []byte(`{"no":"type"}`)); err == nil {
		t.Fatal("Publish accepted a message without type")
	}
	if err := s.router.Broadcast(context.Background(), map[string]string{"type": "all"}); err != nil {
		t.Fatal(err)
	}
	a.expect("all")
	b.expect("all")
}

func TestHeartbeat(t *testing.T) {
	hcl := strings.Replace(defaultHCL(t), `interval = "30s"`, `interval = "100ms"`, 1)
	hcl = strings.Replace(hcl, `timeout  = "10s"`, `timeout  = "200ms"`, 1)
	s := startServer(t, hcl)

	t.Run("server pings, client pongs, stays open", func(t *testing.T) {
		c := s.dial("alice") // coder/websocket answers pings while reading
		c.expectNothing()
		time.Sleep(500 * time.Millisecond)
		c.join("still-here")
	})
	t.Run("client ping answered", func(t *testing.T) {
		c := s.dial("bob")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := c.c.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
	t.Run("silent peer closed", func(t *testing.T) {
		// A raw TCP client that upgrades and then never answers a ping.
		conn, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(s.url, "/ws"), "ws://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /ws?token=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", token(t, "carol", time.Hour))
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		start := time.Now()
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		buf := make([]byte, 4096)
		pings := 0
		for {
			n, err := br.Read(buf)
			if err != nil {
				break // the server closed the socket
			}
			if n > 0 && buf[0] == 0x89 {
				pings++
			}
		}
		// interval+timeout is 300ms; a generous bound for loaded machines.
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("silent peer kept for %v", d)
		}
		if pings == 0 {
			t.Fatal("server sent no ping")
		}
	})
}

func TestGracefulCloseSends1001(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	c := s.dial("alice")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.router.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c.expectClose(websocket.StatusGoingAway)
	if n := s.router.Connections(); n != 0 {
		t.Fatalf("%d connections left", n)
	}
	_, resp, err := s.dialRaw("?token="+token(t, "bob", time.Hour), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after Close: resp=%v err=%v", resp, err)
	}
}

func TestPolicyVerdicts(t *testing.T) {
	hcl := defaultHCL(t) + `
plugin "upper" {
  native = true
}
plugin "gate" {
  native = true
}
route "shout" {
  plugins = [plugin.upper, plugin.gate]
  deliver {
    to   = "room"
    room = msg.roomId
    require_member = false
  }
}
`
	upper := router.PolicyFunc(func(_ context.Context, m *router.Message) router.Verdict {
		var msg map[string]any
		if err := json.Unmarshal(m.Payload, &msg); err != nil {
			return router.Verdict{Action: router.Reject, Code: "bad", Reason: err.Error()}
		}
		msg["text"] = strings.ToUpper(msg["text"].(string))
		msg["roomId"] = strings.ToUpper(msg["roomId"].(string))
		out, _ := json.Marshal(msg)
		return router.Verdict{Action: router.Transform, Payload: out}
	})
	gate := router.PolicyFunc(func(_ context.Context, m *router.Message) router.Verdict {
		s := string(m.Payload)
		switch {
		case strings.Contains(s, "SECRET"):
			return router.Verdict{Action: router.Reject, Code: "no_secrets", Reason: "secrets are not shouted"}
		case strings.Contains(s, "QUIET"):
			return router.Verdict{Action: router.Drop}
		case strings.Contains(s, "ME"):
			return router.Verdict{Action: router.Reroute, Target: "sender"}
		}
		return router.Verdict{Action: router.Allow}
	})
	s := startServer(t, hcl, router.WithPolicy("upper", upper), router.WithPolicy("gate", gate))
	a, b := s.dial("alice"), s.dial("bob")
	b.join("r")
	a.send(`{"type":"shout","roomId":"r","text":"hello"}`)
	// The transform upper-cased the payload, so the room expression now
	// reads "R": delivery follows the transformed message.
	b.expectNothing()
	b.join("R")
	a.send(`{"type":"shout","roomId":"r","text":"hello"}`)
	if m := b.expect("shout"); m["text"] != "HELLO" || m["roomId"] != "R" {
		t.Fatalf("transformed = %v", m)
	}
	a.send(`{"type":"shout","roomId":"r","text":"secret","id":"s"}`)
	if m := a.expect("error"); m["code"] != "no_secrets" || m["id"] != "s" {
		t.Fatalf("reject = %v", m)
	}
	a.send(`{"type":"shout","roomId":"r","text":"quiet","id":"q"}`)
	if m := a.expect("ack"); m["id"] != "q" {
		t.Fatalf("drop = %v", m)
	}
	a.send(`{"type":"shout","roomId":"r","text":"me"}`)
	if m := a.expect("shout"); m["text"] != "ME" {
		t.Fatalf("reroute = %v", m)
	}
	b.expectNothing()
}

func TestInvalidUTF8Closes1007(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	c := s.dial("alice")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte("{\"type\":\"join_room\",\"roomId\":\"\xff\"}")); err != nil {
		t.Fatal(err)
	}
	c.expectClose(websocket.StatusInvalidFramePayloadData)
}
