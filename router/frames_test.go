package router_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/router"
)

// badFrames are frames no route takes, one of each kind: each must count
// against the connection's rate and close_after like any message.
type badFrame struct {
	name string
	typ  websocket.MessageType
	data string
	code string // the error the frame gets
}

var badFrames = []badFrame{
	{"bad json", websocket.MessageText, `{"type":`, router.CodeBadJSON},
	{"not an object", websocket.MessageText, `[1]`, router.CodeBadJSON},
	{"missing type", websocket.MessageText, `{"roomId":"a"}`, router.CodeMissingType},
	{"unknown type", websocket.MessageText, `{"type":"nope"}`, router.CodeUnknownType},
	{"binary", websocket.MessageBinary, "\x01\x02", router.CodeBinary},
	{"auth frame", websocket.MessageText, `{"type":"auth","token":"x"}`, router.CodeAuthFailed},
}

// write sends one frame, ignoring errors: the server may close mid-burst.
func write(c *client, typ websocket.MessageType, data string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.c.Write(ctx, typ, []byte(data))
}

func TestEveryFrameCountsAgainstMessageRate(t *testing.T) {
	for _, bf := range badFrames {
		t.Run(bf.name, func(t *testing.T) {
			s := startServer(t, limitsHCL(`message_rate = "3/m"
close_after = -1`, ""))
			c := s.dial("alice")
			for i := 0; i < 3; i++ {
				if err := write(c, bf.typ, bf.data); err != nil {
					t.Fatal(err)
				}
				if m := c.expect("error"); m["code"] != bf.code {
					t.Fatalf("frame %d: %v, want %s", i, m, bf.code)
				}
			}
			// The three refused frames used the budget up.
			c.send(`{"type":"echo"}`)
			if m := c.expect("error"); m["code"] != router.CodeRateLimited {
				t.Fatalf("echo after 3 %s frames: %v, want rate_limited", bf.name, m)
			}
		})
	}
}

// TestBadFrameFloodCloses4008 sends 60 refused frames at once: the client
// gets at most close_after replies, then 4008, never 60 replies and an open
// connection.
func TestBadFrameFloodCloses4008(t *testing.T) {
	kinds := append(badFrames[:len(badFrames):len(badFrames)], badFrame{name: "mixed"})
	for _, bf := range kinds {
		t.Run(bf.name, func(t *testing.T) {
			s := startServer(t, defaultHCL(t))
			c := s.dial("alice")
			go func() {
				for i := 0; i < 60; i++ {
					f := bf
					if f.name == "mixed" {
						f = badFrames[i%len(badFrames)]
					}
					if write(c, f.typ, f.data) != nil {
						return
					}
				}
			}()
			replies := 0
			for {
				m, err := c.readErr(10 * time.Second)
				if err != nil {
					if got := websocket.CloseStatus(err); got != router.ClosePolicyViolated {
						t.Fatalf("after %d replies: %v, want close 4008", replies, err)
					}
					break
				}
				if m["type"] != "error" {
					t.Fatalf("unexpected %v", m)
				}
				replies++
			}
			if replies > 10 { // close_after's default
				t.Fatalf("%d error replies before the close, want at most 10", replies)
			}
		})
	}
}

// TestErrorRepliesQuoteShortPrefix: an error reply quotes at most a short
// prefix of what the client sent, as valid UTF-8 in valid JSON.
func TestErrorRepliesQuoteShortPrefix(t *testing.T) {
	hcl := `
server {
  max_payload = "1MiB"
}
route "leave_room" {
  action = "leave"
  room   = msg.roomId
}
route "say" {
  deliver {
    to             = "room"
    room           = msg.roomId
    require_member = true
  }
}
`
	s := startServer(t, hcl)
	conn, _, err := s.dialRaw("", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, conn, "anon")
	c.expect("connected")
	big := strings.Repeat("x", 64<<10)
	accents := strings.Repeat("é", 32<<10) // 64 KiB of two-byte runes: a cut may fall inside one
	// quoted: the reply quotes the input, cut and marked; the bad JSON
	// replies say what and where without quoting it.
	cases := []struct {
		name, msg, code string
		quoted          bool
	}{
		{"64 KiB type", `{"type":"` + big + `"}`, router.CodeUnknownType, true},
		{"64 KiB type of two-byte runes", `{"type":"x` + accents + `"}`, router.CodeUnknownType, true},
		{"64 KiB bad JSON value", `{"type":"say","a":t` + big + `}`, router.CodeBadJSON, false},
		{"64 KiB bad JSON tail", `{"type":"say"}` + big, router.CodeBadJSON, false},
		{"64 KiB bad JSON runes", `{"type":"say","a":t` + accents + `}`, router.CodeBadJSON, false},
		{"64 KiB room to leave", `{"type":"leave_room","roomId":"` + big + `"}`, router.CodeNotMember, true},
		{"64 KiB room to send to", `{"type":"say","roomId":"` + accents + `"}`, router.CodeNotMember, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.send(tc.msg)
			var f frame
			select {
			case f = <-c.in:
			case <-time.After(5 * time.Second):
				t.Fatal("no reply")
			}
			if f.err != nil {
				t.Fatal(f.err)
			}
			if !utf8.Valid(f.data) || !json.Valid(f.data) {
				t.Fatalf("reply is not valid UTF-8 JSON: %q", f.data)
			}
			if len(f.data) > 300 {
				t.Fatalf("reply is %d bytes: %.300s...", len(f.data), f.data)
			}
			var m struct{ Type, Code, Message string }
			_ = json.Unmarshal(f.data, &m)
			if m.Type != "error" || m.Code != tc.code {
				t.Fatalf("reply %s, want error %s", f.data, tc.code)
			}
			if strings.ContainsRune(m.Message, utf8.RuneError) {
				t.Fatalf("message cut inside a rune: %q", m.Message)
			}
			if tc.quoted && !strings.Contains(m.Message, "…") {
				t.Fatalf("message does not mark the cut: %q", m.Message)
			}
		})
	}
}

// TestDefaultConfigStopsJoinLeaveLoop: with the default router.hcl, a
// client joining and leaving a room in a loop is refused, then closed with
// 4008, and the room's members hear of a bounded number of its joins.
func TestDefaultConfigStopsJoinLeaveLoop(t *testing.T) {
	s := startServer(t, defaultHCL(t))
	bob := s.dial("bob")
	bob.join("r")
	alice := s.dial("alice")
	go func() {
		for i := 0; i < 500; i++ {
			if write(alice, websocket.MessageText, `{"type":"join_room","roomId":"r"}`) != nil ||
				write(alice, websocket.MessageText, `{"type":"leave_room","roomId":"r"}`) != nil {
				return
			}
		}
	}()
	alice.expectClose(router.ClosePolicyViolated)
	events := 0
	for {
		m, err := bob.readErr(300 * time.Millisecond)
		if err != nil {
			break
		}
		if m["type"] == "user_joined" || m["type"] == "user_left" {
			events++
		}
	}
	// Bursts of 50 joins and 50 leaves, plus what 10/s refills while the
	// loop runs.
	t.Logf("bob heard %d joins and leaves", events)
	if events > 150 {
		t.Fatalf("bob heard %d joins and leaves", events)
	}
	bob.send(`{"type":"send_message","roomId":"r","text":"still here"}`)
	bob.expectNothing() // excluded sender; the connection is open
}
