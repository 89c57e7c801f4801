package router_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
	"github.com/switchboard-rt/switchboard/router"
)

// closeOf reads until c closes and returns the close frame's code and
// reason.
func closeOf(t *testing.T, c *client) (websocket.StatusCode, string) {
	t.Helper()
	for {
		_, err := c.readErr(10 * time.Second)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: connection ended without a close frame: %v", c.user, err)
		}
		return ce.Code, ce.Reason
	}
}

// sendRaw writes one text frame of arbitrary bytes.
func sendRaw(t *testing.T, c *client, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, data); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// TestCloseReasonsAreTheRouters: a frame over max_payload and a text frame
// that is not UTF-8 close with the router's words, not gws's ("gws:
// message too large").
func TestCloseReasonsAreTheRouters(t *testing.T) {
	cases := []struct {
		name, maxPayload string
		data             []byte
		code             websocket.StatusCode
		reason           string
	}{
		{"too large", "64KiB", []byte(`{"type":"send_message","text":"` + strings.Repeat("x", 64<<10) + `"}`),
			websocket.StatusMessageTooBig, "message too large (limit 64 KiB)"},
		{"too large, odd limit", "1000", []byte(strings.Repeat(" ", 1001)),
			websocket.StatusMessageTooBig, "message too large (limit 1000 bytes)"},
		{"too large, MiB", "1MiB", []byte(strings.Repeat(" ", 1<<20+1)),
			websocket.StatusMessageTooBig, "message too large (limit 1 MiB)"},
		{"not UTF-8", "64KiB", []byte("{\"type\":\"send_message\",\"text\":\"\xff\"}"),
			websocket.StatusInvalidFramePayloadData, "text frame is not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hcl := strings.Replace(defaultHCL(t), `max_payload       = "64KiB"`, `max_payload       = "`+tc.maxPayload+`"`, 1)
			s := startServer(t, hcl)
			c := s.dial("alice")
			c.c.SetReadLimit(4 << 20)
			sendRaw(t, c, tc.data)
			code, reason := closeOf(t, c)
			if code != tc.code || reason != tc.reason {
				t.Fatalf("close %d %q, want %d %q", code, reason, tc.code, tc.reason)
			}
		})
	}
}

// TestSchemaErrorsCountRight: "at least 1 character", not "1 characters".
func TestSchemaErrorsCountRight(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	alice := s.dial("alice")
	alice.join("lobby")
	alice.send(`{"type":"send_message","roomId":"lobby","text":""}`)
	m := alice.expect("error")
	if want := `"text" must be at least 1 character`; m["message"] != want || m["code"] != router.CodeInvalidField {
		t.Fatalf("error = %v, want message %q", m, want)
	}
	alice.send(`{"type":"send_message","roomId":"lobby","text":"` + strings.Repeat("é", 2001) + `"}`)
	if m := alice.expect("error"); m["message"] != `"text" must be at most 2000 characters` {
		t.Fatalf("error = %v", m)
	}
}

// TestUserRoomsAreServerOnly: a client cannot send into a user:<id> room,
// not even its own (which it is a member of): refused as a join is, with
// the same code and text. The server still delivers there.
func TestUserRoomsAreServerOnly(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	alice, alice2, bob := s.dial("alice"), s.dial("alice"), s.dial("bob")
	const want = `rooms starting with "user:" are reserved for the server`

	alice.send(`{"type":"join_room","roomId":"user:alice","id":"j"}`)
	join := alice.expect("error")
	if join["code"] != router.CodeForbidden || join["message"] != want || join["id"] != "j" {
		t.Fatalf("join error = %v", join)
	}
	for _, room := range []string{"user:alice", "user:bob"} {
		alice.send(`{"type":"send_message","roomId":"` + room + `","text":"psst","id":"s"}`)
		m := alice.expect("error")
		if m["code"] != join["code"] || m["message"] != join["message"] || m["id"] != "s" {
			t.Fatalf("send to %s: error = %v, want the join's %v", room, m, join)
		}
	}
	alice2.expectNothing()
	bob.expectNothing()

	if err := s.router.SendToUser(context.Background(), "bob", map[string]any{"type": "notice"}); err != nil {
		t.Fatal(err)
	}
	bob.expect("notice")
}

// TestHandshakeErrorsAreTheRouters: a request gws would refuse with "gws:
// handshake error" gets the router's explanation.
func TestHandshakeErrorsAreTheRouters(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	httpURL := "http" + strings.TrimPrefix(s.url, "ws") + "?token=" + token(t, "alice", time.Hour)
	good := http.Header{
		"Connection":            {"keep-alive, Upgrade"},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
	}
	cases := []struct {
		name   string
		method string
		edit   func(http.Header)
		status int
		body   string
	}{
		{"POST", http.MethodPost, nil, http.StatusMethodNotAllowed, "a WebSocket handshake is a GET request"},
		{"no Connection", http.MethodGet, func(h http.Header) { h.Del("Connection") }, http.StatusBadRequest, "a WebSocket handshake needs the header Connection: Upgrade"},
		{"version 8", http.MethodGet, func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }, http.StatusUpgradeRequired, "this server speaks WebSocket version 13 (Sec-WebSocket-Version: 13)"},
		{"no key", http.MethodGet, func(h http.Header) { h.Del("Sec-Websocket-Key") }, http.StatusBadRequest, "a WebSocket handshake needs the header Sec-WebSocket-Key"},
		{"good", http.MethodGet, nil, http.StatusSwitchingProtocols, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, httpURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = good.Clone()
			if tc.edit != nil {
				tc.edit(req.Header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusSwitchingProtocols {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			if got := strings.TrimSpace(string(body)); got != tc.body {
				t.Fatalf("body %q, want %q", got, tc.body)
			}
			if tc.status == http.StatusUpgradeRequired && resp.Header.Get("Sec-Websocket-Version") != "13" {
				t.Fatalf("426 without Sec-WebSocket-Version: 13: %v", resp.Header)
			}
		})
	}
}

// abiHCL is a config with testdata/abi.wat on routes "blurt" (whose
// transform adds a field "pad"), "wave" (allowed as is) and "nostring"
// (whose transform has a non-string type), each with a schema.
func abiHCL(t *testing.T, transformFields string) string {
	wasm := wasmbuild.Build(t, "../plugins/testdata/abi.wat")
	return `
auth {
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }
}
plugin "abi" {
  source  = "` + wasm + `"
  timeout = "50ms"
}
route "blurt" {
  schema {
    field "text" {
      type = "string"
    }
  }
  plugins = [plugin.abi]
  ` + transformFields + `
  deliver {
    to = "sender"
  }
}
route "wave" {
  schema {
    field "text" {
      type = "string"
    }
  }
  plugins = [plugin.abi]
  ` + transformFields + `
  deliver {
    to = "sender"
  }
}
route "nostring" {
  schema {
    field "text" {
      type = "string"
    }
  }
  plugins = [plugin.abi]
  deliver {
    to = "sender"
  }
}
`
}

// TestTransformFields: a route's schema filters a transform's output, and
// says so in the log once; transform_fields delivers the field.
func TestTransformFields(t *testing.T) {
	pad := strings.Repeat("x", 977)
	t.Run("undeclared", func(t *testing.T) {
		logs := &syncBuffer{}
		s := startServer(t, abiHCL(t, ""), router.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
		c := s.dial("alice")
		for range 2 {
			c.send(`{"type":"blurt","text":"hi"}`)
			if m := c.expect("blurt"); m["pad"] != nil {
				t.Fatalf("undeclared field delivered: %v", m)
			}
		}
		const warning = `msg="a plugin's transform added a field the route does not deliver: declare it in the schema or in transform_fields" plugin=abi route=blurt field=pad`
		if n := strings.Count(logs.String(), warning); n != 1 {
			t.Fatalf("warning logged %d times, want once:\n%s", n, logs)
		}
	})
	t.Run("declared", func(t *testing.T) {
		s := startServer(t, abiHCL(t, `transform_fields = ["pad"]`))
		c := s.dial("alice")
		c.send(`{"type":"blurt","text":"hi"}`)
		if m := c.expect("blurt"); m["pad"] != pad {
			t.Fatalf("declared field not delivered: %.80v", m)
		}
		// Only a transform's output carries them: the client cannot set
		// one on a message no plugin transformed (abi.wat allows "wave").
		c.send(`{"type":"wave","text":"hi","pad":"mine"}`)
		if m := c.expect("wave"); m["pad"] != nil || m["text"] != "hi" {
			t.Fatalf("a client's own transform field was delivered: %v", m)
		}
	})
	t.Run("type not a string", func(t *testing.T) {
		s := startServer(t, abiHCL(t, ""))
		c := s.dial("alice")
		c.send(`{"type":"nostring","text":"hi"}`)
		// The plugin's name is the operator's, for the log: not in the error.
		if m := c.expect("error"); m["code"] != router.CodeBadPayload || m["message"] != "a plugin's transform of the message is not a valid message" {
			t.Fatalf("got %v", m)
		}
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const jwtAuthHCL = `
auth {
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }
}
`

// TestRerouteRules checks plugins/ABI.md, "Reroute": room membership is not
// checked, the route's `as` is kept, later plugins still run (the last
// reroute wins, a later reject still rejects), route: reroutes are bounded
// by a hop limit of 4, and a join or leave route cannot be rerouted.
func TestRerouteRules(t *testing.T) {
	hcl := jwtAuthHCL + `
plugin "tell" {
  native = true
}
plugin "after" {
  native = true
}
plugin "hop" {
  native = true
}
route "tell" {
  plugins = [plugin.tell, plugin.after]
  deliver {
    to   = "room"
    room = msg.roomId
    as   = "told"
  }
}
route "hop" {
  plugins = [plugin.hop]
  deliver {
    to = "sender"
  }
}
route "enter" {
  plugins = [plugin.tell]
  action  = "join"
  room    = msg.roomId
}
route "join_room" {
  action = "join"
  room   = msg.roomId
}
`
	tell := router.PolicyFunc(func(context.Context, *router.Message) router.Verdict {
		return router.Verdict{Action: router.Reroute, Target: "room:secret"}
	})
	after := router.PolicyFunc(func(_ context.Context, m *router.Message) router.Verdict {
		switch s := string(m.Payload); {
		case strings.Contains(s, "stop"):
			return router.Verdict{Action: router.Reject, Code: "stopped", Reason: "stopped after the reroute"}
		case strings.Contains(s, "back"):
			return router.Verdict{Action: router.Reroute, Target: "sender"}
		}
		return router.Verdict{Action: router.Allow}
	})
	var hops int
	var mu sync.Mutex
	hop := router.PolicyFunc(func(context.Context, *router.Message) router.Verdict {
		mu.Lock()
		hops++
		mu.Unlock()
		return router.Verdict{Action: router.Reroute, Target: "route:hop"}
	})
	s := startServer(t, hcl, router.WithPolicy("tell", tell), router.WithPolicy("after", after), router.WithPolicy("hop", hop))
	alice, bob := s.dial("alice"), s.dial("bob")
	bob.send(`{"type":"enter","roomId":"secret","id":"e"}`)
	if m := bob.expect("error"); m["code"] != router.CodeBadPayload || m["message"] != `a "enter" message joins a room and cannot be rerouted` {
		t.Fatalf("reroute of a join: %v", m)
	}
	bob.join("secret")

	alice.send(`{"type":"tell","roomId":"lobby","text":"hi"}`)
	if m := bob.expect("told"); m["text"] != "hi" || m["userId"] != "alice" {
		t.Fatalf("rerouted to a room alice is not in, as kept: %v", m)
	}
	alice.expectNothing()
	alice.send(`{"type":"tell","roomId":"lobby","text":"stop","id":"s"}`)
	if m := alice.expect("error"); m["code"] != "stopped" || m["id"] != "s" {
		t.Fatalf("later reject: %v", m)
	}
	alice.send(`{"type":"tell","roomId":"lobby","text":"back"}`)
	if m := alice.expect("told"); m["text"] != "back" {
		t.Fatalf("last reroute wins: %v", m)
	}
	bob.expectNothing()

	alice.send(`{"type":"hop","id":"h"}`)
	if m := alice.expect("error"); m["code"] != router.CodeTooManyReroute || m["id"] != "h" {
		t.Fatalf("hop limit: %v", m)
	}
	mu.Lock()
	defer mu.Unlock()
	if hops != 5 { // the route's own run and 4 reroutes; the 5th is refused
		t.Fatalf("the hop policy ran %d times, want 5", hops)
	}
}

// TestPluginSeesClientBytes: over a real socket, a plugin's envelope is the
// client's frame byte for byte, and its claims the token's whole payload.
func TestPluginSeesClientBytes(t *testing.T) {
	wasm := wasmbuild.Build(t, "../plugins/testdata/abi.wat")
	hcl := jwtAuthHCL + `
plugin "abi" {
  source  = "` + wasm + `"
  timeout = "50ms"
}
route "inspect" {
  plugins = [plugin.abi]
  deliver {
    to = "sender"
  }
}
`
	s := startServer(t, hcl)
	c := s.dial("alice")
	sent := `{ "type":"inspect",  "z":1,"a":"\u00e9","y":2 }`
	c.send(sent)
	m := c.expect("error")
	reason, _ := m["message"].(string)
	if !strings.Contains(reason, sent+"inspectalice{") {
		t.Fatalf("the plugin did not see the client's bytes, route and user: %q", reason)
	}
	for _, claim := range []string{`"sub":"alice"`, `"exp":`, `"iat":`} {
		if !strings.Contains(reason, claim) {
			t.Errorf("claims without %s: %q", claim, reason)
		}
	}
	if !regexp.MustCompile(`127\.0\.0\.1:[0-9]+$`).MatchString(reason) {
		t.Errorf("no remote address at the end: %q", reason)
	}
}

// TestHeartbeatTimeoutReason: a peer that stops answering pings is closed
// with a reason that says so, not the socket error's text ("read tcp
// 127.0.0.1:...: i/o timeout").
func TestHeartbeatTimeoutReason(t *testing.T) {
	hcl := strings.Replace(defaultHCL(t), "interval = \"30s\"\n    timeout  = \"10s\"", "interval = \"200ms\"\n    timeout  = \"200ms\"", 1)
	if hcl == defaultHCL(t) {
		t.Fatal("router.hcl changed: cannot shorten the heartbeat")
	}
	s := startServer(t, hcl)
	c, _, err := s.dialRaw("?token="+token(t, "alice", time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Not reading: coder/websocket answers pings only while it reads.
	time.Sleep(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("no close frame: %v", err)
		}
		if ce.Reason != "heartbeat timeout: nothing received in time" {
			t.Fatalf("close %d %q", ce.Code, ce.Reason)
		}
		return
	}
}
