package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/router"
)

// expectOnlyClose checks that the next thing the client gets is the close
// code: no frame comes before it.
func (c *client) expectOnlyClose(code websocket.StatusCode) {
	c.t.Helper()
	m, err := c.readErr(10 * time.Second)
	if err == nil {
		c.t.Fatalf("%s: got %v before the close, want only close %d", c.user, m, code)
	}
	if got := websocket.CloseStatus(err); got != code {
		c.t.Fatalf("%s: %v, want close %d", c.user, err, code)
	}
}

// firstMessageServer waits for the auth message far longer than the tests
// wait for the close: a close that comes is the refusal, not the timeout.
func firstMessageServer(t *testing.T) *server {
	return startServer(t, authHCL(`
  token_from            = ["first_message"]
  first_message_timeout = "60s"
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }`))
}

func openPending(t *testing.T, s *server) *client {
	t.Helper()
	c, _, err := s.dialRaw("", nil)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, c, "pending")
}

func TestFirstMessageOtherThanAuthCloses4001(t *testing.T) {
	s := firstMessageServer(t)
	good := token(t, "alice", time.Hour)
	cases := []struct {
		name string
		typ  websocket.MessageType
		data string
	}{
		{"bad json", websocket.MessageText, `{"type":`},
		{"not an object", websocket.MessageText, `"auth"`},
		{"missing type", websocket.MessageText, `{"token":"` + good + `"}`},
		{"another type", websocket.MessageText, `{"type":"echo","token":"` + good + `"}`},
		{"auth without token", websocket.MessageText, `{"type":"auth"}`},
		{"auth with a number token", websocket.MessageText, `{"type":"auth","token":5}`},
		{"auth with a bad id", websocket.MessageText, `{"type":"auth","token":"` + good + `","id":{}}`},
		{"auth with a bad token", websocket.MessageText, `{"type":"auth","token":"nope"}`},
		{"binary", websocket.MessageBinary, `{"type":"auth","token":"` + good + `"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := openPending(t, s)
			if err := write(c, tc.typ, tc.data); err != nil {
				t.Fatal(err)
			}
			c.expectOnlyClose(router.CloseUnauthorized)
		})
	}
	t.Run("auth still opens it", func(t *testing.T) {
		c := openPending(t, s)
		c.send(`{"type":"auth","token":"` + good + `"}`)
		if m := c.expect("connected"); m["userId"] != "alice" {
			t.Fatalf("connected = %v", m)
		}
	})
}

func TestPendingConnectionGets1001OnClose(t *testing.T) {
	s := firstMessageServer(t)
	c := openPending(t, s)
	// The dial returns when the upgrade is written, maybe before the
	// server has registered the connection: its read loop answering a
	// ping proves it has.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.router.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c.expectOnlyClose(websocket.StatusGoingAway)
}
