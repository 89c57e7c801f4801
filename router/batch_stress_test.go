package router_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// TestFanoutOrderUnderLoad: publishers sending at once to a room, through
// the write batcher, with members leaving in the middle. Every member that
// stays gets every message, each publisher's in the order sent.
func TestFanoutOrderUnderLoad(t *testing.T) {
	const members, publishers, perPublisher, leavers = 30, 3, 150, 5
	s := startServer(t, `
auth {
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }
}
server {
  write_delay = "1ms"
  send_queue  = "4MiB" # more than a member gets: slow consumers are not the subject
}
route "join_room" {
  action = "join"
  room   = msg.roomId
}
route "say" {
  deliver {
    to   = "room"
    room = msg.roomId
  }
}
`)
	clients := make([]*client, members)
	for i := range clients {
		clients[i] = s.dial("u" + strconv.Itoa(i))
		clients[i].join("r")
	}
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range perPublisher {
				msg := fmt.Sprintf(`{"type":"say","roomId":"r","text":"p%d-%d"}`, p, n)
				if err := clients[p].c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Members at the end of the list leave while the messages flow.
	for _, c := range clients[members-leavers:] {
		_ = c.c.Close(websocket.StatusNormalClosure, "bye")
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, c := range clients[:members-leavers] {
		next := make([]int, publishers)
		for got := 0; got < publishers*perPublisher; {
			m := c.read()
			if m["type"] != "say" {
				continue // presence events
			}
			var p, n int
			if _, err := fmt.Sscanf(strings.TrimPrefix(m["text"].(string), "p"), "%d-%d", &p, &n); err != nil {
				t.Fatalf("%s: text %v", c.user, m["text"])
			}
			if n != next[p] {
				t.Fatalf("%s: from publisher %d got message %d, want %d", c.user, p, n, next[p])
			}
			next[p]++
			got++
		}
	}
}
