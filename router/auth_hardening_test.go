package router_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

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

func TestJWTClaimsChecked(t *testing.T) {
	const jwtBlock = `jwt {
  secret = env("SWITCHBOARD_JWT_SECRET")
  leeway = "30s"
%s
}`
	s := startServer(t, authHCL(fmt.Sprintf(jwtBlock, "")))
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(testSecret), c, "") }
	now := time.Now()
	hour := now.Add(time.Hour).Unix()
	t.Run("exp is required", func(t *testing.T) {
		dialRefused(t, s, "?token="+hs(jwt.MapClaims{"sub": "alice"}), nil, nil, router.CloseUnauthorized)
		dialRefused(t, s, "?token="+hs(jwt.MapClaims{"sub": "alice", "iat": now.Unix()}), nil, nil, router.CloseUnauthorized)
	})
	t.Run("exp is required in the first message too", func(t *testing.T) {
		fm := firstMessageServer(t)
		c := openPending(t, fm)
		c.send(`{"type":"auth","token":"` + hs(jwt.MapClaims{"sub": "alice"}) + `"}`)
		c.expectOnlyClose(router.CloseUnauthorized)
	})
	t.Run("require_exp = false accepts a token without exp", func(t *testing.T) {
		lax := startServer(t, authHCL(fmt.Sprintf(jwtBlock, "  require_exp = false")))
		dialOK(t, lax, "?token="+hs(jwt.MapClaims{"sub": "alice"}), nil, nil, "alice")
		// An exp that is there is still checked.
		dialRefused(t, lax, "?token="+hs(jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Minute).Unix()}), nil, nil, router.CloseUnauthorized)
	})
	t.Run("iat in the future beyond the leeway", func(t *testing.T) {
		dialRefused(t, s, "?token="+hs(jwt.MapClaims{"sub": "alice", "exp": hour, "iat": now.Add(5 * time.Minute).Unix()}), nil, nil, router.CloseUnauthorized)
		dialOK(t, s, "?token="+hs(jwt.MapClaims{"sub": "alice", "exp": hour, "iat": now.Add(10 * time.Second).Unix()}), nil, nil, "alice")
	})
	t.Run("sub over 256 bytes", func(t *testing.T) {
		dialRefused(t, s, "?token="+hs(jwt.MapClaims{"sub": strings.Repeat("a", 257), "exp": hour}), nil, nil, router.CloseUnauthorized)
		dialRefused(t, s, "?token="+hs(jwt.MapClaims{"sub": strings.Repeat("é", 129), "exp": hour}), nil, nil, router.CloseUnauthorized)
		dialOK(t, s, "?token="+hs(jwt.MapClaims{"sub": strings.Repeat("a", 256), "exp": hour}), nil, nil, strings.Repeat("a", 256))
	})
}
