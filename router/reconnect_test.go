package router_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-rt/switchboard/router"
)

// joinLeaveHCL has join and leave routes limited per user only, so that
// what a reconnect loop gets through is the user's budget and nothing else.
const joinLeaveHCL = `
auth {
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }
}
limits {
  close_after = -1
}
route "join_room" {
  user_rate  = "2/s"
  user_burst = 5
  action     = "join"
  room       = msg.roomId
}
route "leave_room" {
  user_rate  = "2/s"
  user_burst = 5
  action     = "leave"
  room       = msg.roomId
}
`

// presence counts the user_joined and user_left events c hears until it
// has heard nothing for a while.
func presence(c *client) int {
	n := 0
	for {
		m, err := c.readErr(300 * time.Millisecond)
		if err != nil {
			return n
		}
		if m["type"] == "user_joined" || m["type"] == "user_left" {
			n++
		}
	}
}

// TestReconnectKeepsUserRates: a user that reconnects finds its per-user
// buckets as it left them. Before, they lived with the user's last
// connection, so connect, 25 join/leave pairs, close, in a loop, got a
// fresh budget each time (15,932 user_joined in 5 s with router.hcl).
func TestReconnectKeepsUserRates(t *testing.T) {
	t.Run("join and leave", func(t *testing.T) {
		s := startServer(t, joinLeaveHCL)
		bob := s.dial("bob")
		bob.join("lobby")
		start := time.Now()
		const rounds = 20
		for range rounds {
			m := s.dial("mallory")
			for range 25 {
				m.send(`{"type":"join_room","roomId":"lobby"}`)
				m.send(`{"type":"leave_room","roomId":"lobby"}`)
			}
			// Wait for every answer, so each connection spends what it may.
			for range 50 {
				m.read()
			}
			_ = m.c.CloseNow()
		}
		heard := presence(bob)
		elapsed := time.Since(start) // until the last event was handled
		// Joins and leaves each: a burst of 5 and 2/s, over the whole loop
		// (one more of each for the refill in flight).
		limit := 2 * (5 + int(math.Ceil(2*elapsed.Seconds())) + 1)
		t.Logf("bob heard %d joins and leaves in %v (limit %d; %d without the fix)", heard, elapsed, limit, rounds*10)
		if heard > limit {
			t.Fatalf("bob heard %d joins and leaves in %v, the user's rates allow %d", heard, elapsed, limit)
		}
	})
	t.Run("user_message_rate", func(t *testing.T) {
		s := startServer(t, limitsHCL(`user_message_rate = "6/m"
close_after = -1`, ""))
		first := s.dial("alice")
		ok1, _ := countUntilLimited(t, first, 4)
		// The first connection is gone before the second opens.
		_ = first.c.CloseNow()
		waitFor(t, "alice's first connection to go", func() bool { return s.router.Connections() == 0 })
		ok2, limited := countUntilLimited(t, s.dial("alice"), 4)
		if ok1 != 4 || ok2 != 2 || !limited {
			t.Fatalf("alice passed %d then %d after reconnecting, want 4 then 2", ok1, ok2)
		}
	})
}

// TestDefaultConfigStopsReconnectLoop is the reconnect attack against
// router.hcl: connect, 25 join/leave pairs, close, as fast as possible.
// Members hear at most the user_burst of joins and of leaves plus what
// user_rate refills; the loop runs out of connect_rate soon after.
func TestDefaultConfigStopsReconnectLoop(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	bob := s.dial("bob")
	bob.join("lobby")
	tok := "?token=" + token(t, "mallory", time.Hour)
	start := time.Now()
	conns, refused := 0, false
	for time.Since(start) < 2*time.Second {
		c, _, err := s.dialRaw(tok, nil)
		if err != nil {
			refused = true // connect_rate: 429
			break
		}
		conns++
		m := newClient(t, c, "mallory")
		for range 25 {
			if write(m, websocket.MessageText, `{"type":"join_room","roomId":"lobby"}`) != nil ||
				write(m, websocket.MessageText, `{"type":"leave_room","roomId":"lobby"}`) != nil {
				break
			}
		}
		_ = c.CloseNow()
	}
	heard := presence(bob)
	elapsed := time.Since(start) // until the last event was handled
	// user_burst 100 and user_rate 10/s, for joins and for leaves.
	limit := 2 * (100 + int(math.Ceil(10*elapsed.Seconds())) + 1)
	t.Logf("%d connections in %v (refused: %v); bob heard %d joins and leaves (limit %d)", conns, elapsed, refused, heard, limit)
	if heard > limit {
		t.Fatalf("bob heard %d joins and leaves in %v, more than %d", heard, elapsed, limit)
	}
	bob.send(`{"type":"send_message","roomId":"lobby","text":"still here"}`)
	bob.expectNothing() // excluded sender; the connection is open
}

// dialControl upgrades a bare socket (rawConn) with query, for control
// frames the client libraries send only on their own terms.
func (s *server) dialControl(query string) *rawConn {
	s.t.Helper()
	rc, resp := s.rawRequest("GET /ws" + query + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		s.t.Fatalf("upgrade: %s", resp.Status)
	}
	return rc
}

// write sends one masked frame (mask 0: the payload goes as it is) of
// less than 64 KiB.
func (c *rawConn) write(op byte, payload []byte) error {
	h := []byte{0x80 | op, 0x80 | byte(len(payload))}
	if len(payload) > 125 {
		h[1] = 0x80 | 126
		h = binary.BigEndian.AppendUint16(h, uint16(len(payload)))
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(append(append(h, 0, 0, 0, 0), payload...))
	return err
}

// read returns the next frame's opcode and payload.
func (c *rawConn) read(d time.Duration) (op byte, payload []byte, err error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(c.br, payload)
	return h[0] & 0x0f, payload, err
}

const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// flood writes n frames of op from another goroutine, stopping at the
// first error (the server closed), and reads what comes back: the pongs
// counted, and the close code (0 if none came in time).
func (c *rawConn) flood(op byte, n int) (pongs int, code uint16) {
	go func() {
		for range n {
			if c.write(op, []byte("x")) != nil {
				return
			}
		}
	}()
	for {
		typ, p, err := c.read(10 * time.Second)
		if err != nil {
			return pongs, 0
		}
		switch typ {
		case opPong:
			pongs++
		case opClose:
			if len(p) >= 2 {
				return pongs, binary.BigEndian.Uint16(p)
			}
			return pongs, 0
		}
	}
}

// TestPingFloodCloses: pings and pongs count against a bucket of their
// own (10/s, burst 20), and close_after refused ones in a row close the
// connection with 4008; before, 200,000 pings got 200,000 pongs. Other
// clients are served meanwhile.
func TestPingFloodCloses(t *testing.T) {
	for _, op := range []byte{opPing, opPong} {
		t.Run(fmt.Sprintf("opcode %d", op), func(t *testing.T) {
			s := startServer(t, defaultHCL(t))
			a, b := s.dial("alice"), s.dial("bob")
			a.join("r")
			b.join("r")
			a.expect("user_joined")
			c := s.dialControl("?token=" + token(t, "mallory", time.Hour))
			if typ, p, err := c.read(5 * time.Second); err != nil || typ != opText || !strings.Contains(string(p), `"connected"`) {
				t.Fatalf("first frame: %d %q %v", typ, p, err)
			}
			pongs, code := c.flood(op, 5000)
			if code != router.ClosePolicyViolated {
				t.Fatalf("close code %d after %d pongs, want %d", code, pongs, router.ClosePolicyViolated)
			}
			if op == opPing && (pongs < 1 || pongs > 20+5) {
				t.Fatalf("%d pongs, want the burst of 20 (and what refills meanwhile)", pongs)
			}
			if op == opPong && pongs != 0 {
				t.Fatalf("%d pongs for pongs", pongs)
			}
			a.send(`{"type":"send_message","roomId":"r","text":"hi"}`)
			b.expect("message_received")
		})
	}
	t.Run("pending auth", func(t *testing.T) {
		// Before, a connection waiting for its auth message got 100,000
		// pongs before its 4001.
		hcl := strings.Replace(defaultHCL(t), `token_from  = ["query:token"]`, `token_from  = ["first_message"]`, 1)
		s := startServer(t, hcl)
		c := s.dialControl("")
		pongs, code := c.flood(opPing, 5000)
		if code != router.CloseUnauthorized || pongs > 3 {
			t.Fatalf("%d pongs, then close %d; want at most 3, then %d", pongs, code, router.CloseUnauthorized)
		}
		// A few pings before the auth message are fine.
		c = s.dialControl("")
		for range 3 {
			if err := c.write(opPing, []byte("p")); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.write(opText, []byte(`{"type":"auth","token":"`+token(t, "carol", time.Hour)+`"}`)); err != nil {
			t.Fatal(err)
		}
		for pongs := 0; ; {
			typ, p, err := c.read(5 * time.Second)
			if err != nil {
				t.Fatalf("after %d pongs: %v", pongs, err)
			}
			if typ == opPong {
				pongs++
				continue
			}
			if typ != opText || !strings.Contains(string(p), `"connected"`) || pongs != 3 {
				t.Fatalf("got %d %q after %d pongs, want connected after 3", typ, p, pongs)
			}
			break
		}
	})
}

// TestPingRTTOnlyFromOwnPings: ping_rtt_seconds records only the pong that
// answers the last heartbeat ping sent to the connection, once. Before,
// any 8-byte pong was read as a send time: a client could fill the
// histogram with round trips of its choosing.
func TestPingRTTOnlyFromOwnPings(t *testing.T) {
	reg := prometheus.NewRegistry()
	hcl := strings.Replace(defaultHCL(t), `interval = "30s"`, `interval = "1s"`, 1)
	s := startServer(t, hcl, router.WithMetrics(reg))
	c := s.dialControl("?token=" + token(t, "mallory", time.Hour))
	fake := binary.BigEndian.AppendUint64(nil, uint64(time.Now().Add(-10*time.Minute).UnixNano()))
	for range 15 { // unsolicited, under the control rate's burst
		if err := c.write(opPong, fake); err != nil {
			t.Fatal(err)
		}
	}
	var ping []byte
	for ping == nil {
		typ, p, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if typ == opPing {
			ping = p
		}
	}
	// The real answer, then the same pong replayed.
	for range 3 {
		if err := c.write(opPong, ping); err != nil {
			t.Fatal(err)
		}
	}
	// One more round trip through the server, so the pongs are handled.
	if err := c.write(opPing, []byte("sync")); err != nil {
		t.Fatal(err)
	}
	for {
		typ, p, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if typ == opPong && string(p) == "sync" {
			break
		}
	}
	count, sum := rtt(t, reg)
	t.Logf("ping_rtt_seconds: %d samples, sum %gs", count, sum)
	if count != 1 || sum > 5 {
		t.Fatalf("ping_rtt_seconds has %d samples summing to %gs, want the one real round trip", count, sum)
	}
}

func rtt(t *testing.T, reg *prometheus.Registry) (count uint64, sum float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "switchboard_ping_rtt_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatal("no switchboard_ping_rtt_seconds")
	return 0, 0
}
