package router

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/router/config"
)

// TestHubModel drives the hub with random adds, joins, leaves and removes
// of connections shared by a few users, and checks it against a plain
// model after every step: room members, each connection's recorded
// position in them, and the first/last flags that drive presence events.
func TestHubModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := newHub()
	rooms := []string{"a", "b", "c", "d"}
	users := []string{"u1", "u2", "u3"}
	var live []*conn
	model := map[string]map[*conn]bool{} // room -> members

	userIn := func(u, room string, except *conn) bool {
		for c := range model[room] {
			if c != except && c.userID == u {
				return true
			}
		}
		return false
	}
	for step := range 5000 {
		switch op := rng.IntN(10); {
		case op < 2 || len(live) == 0: // connect
			c := &conn{id: itoa(step), userID: users[rng.IntN(len(users))]}
			if added, _ := h.add(c, 0); !added {
				t.Fatalf("step %d: add refused", step)
			}
			live = append(live, c)
		case op < 6: // join
			c, room := live[rng.IntN(len(live))], rooms[rng.IntN(len(rooms))]
			wantFirst := !userIn(c.userID, room, c)
			wantJoined := !model[room][c]
			joined, first, _ := h.join(c, room, 0)
			if joined != wantJoined || joined && first != wantFirst {
				t.Fatalf("step %d: join %s: joined %v first %v, want %v %v", step, room, joined, first, wantJoined, wantFirst)
			}
			if model[room] == nil {
				model[room] = map[*conn]bool{}
			}
			model[room][c] = true
		case op < 8: // leave
			c, room := live[rng.IntN(len(live))], rooms[rng.IntN(len(rooms))]
			wantLeft := model[room][c]
			delete(model[room], c)
			wantLast := !userIn(c.userID, room, c)
			left, last := h.leave(c, room)
			if left != wantLeft || left && last != wantLast {
				t.Fatalf("step %d: leave %s: left %v last %v, want %v %v", step, room, left, last, wantLeft, wantLast)
			}
		default: // disconnect
			i := rng.IntN(len(live))
			c := live[i]
			live = append(live[:i], live[i+1:]...)
			want := map[string]bool{}
			for room, m := range model {
				if m[c] {
					delete(m, c)
					if !userIn(c.userID, room, c) {
						want[room] = true
					}
				}
			}
			got := h.remove(c)
			if len(got) != len(want) {
				t.Fatalf("step %d: remove: rooms left %v, want %v", step, got, want)
			}
			for _, room := range got {
				if !want[room] {
					t.Fatalf("step %d: remove: rooms left %v, want %v", step, got, want)
				}
			}
		}

		if h.count() != len(live) {
			t.Fatalf("step %d: count %d, want %d", step, h.count(), len(live))
		}
		for _, room := range rooms {
			r := h.rooms[room]
			if len(model[room]) == 0 {
				if r != nil {
					t.Fatalf("step %d: empty room %s kept", step, room)
				}
				continue
			}
			if r == nil || len(r.members) != len(model[room]) {
				t.Fatalf("step %d: room %s: members %v, want %d", step, room, r, len(model[room]))
			}
			for i, c := range r.members {
				if !model[room][c] {
					t.Fatalf("step %d: room %s has %s, not a member", step, room, c.id)
				}
				if s := c.slot(room); s < 0 || c.rooms[s].at != i {
					t.Fatalf("step %d: %s records the wrong position in %s", step, c.id, room)
				}
			}
		}
	}
}

// TestUserLimitsOutliveConnections: a user's buckets stay while the hub
// has the user, and after its last connection until they are full again;
// then sweep forgets them.
func TestUserLimitsOutliveConnections(t *testing.T) {
	cfg := &config.Config{Limits: config.Limits{UserMessageRate: &config.Rate{Count: 1, Per: time.Second, Burst: 2}}}
	h := newHub()
	h.limits = newUserLimits(cfg)
	if h.limits.full != 2*time.Second {
		t.Fatalf("refill time %v, want 2s", h.limits.full)
	}
	c := &conn{userID: "u"}
	h.add(c, 0)
	ub := c.user.limits
	now := time.Now()
	ub.b.take("", cfg.Limits.UserMessageRate, now)
	h.limits.sweep(now.Add(time.Hour))
	if h.limits.users["u"] != ub {
		t.Fatal("swept while the user is connected")
	}
	h.remove(c)
	h.limits.sweep(now.Add(time.Second))
	c2 := &conn{userID: "u"}
	h.add(c2, 0)
	if c2.user.limits != ub {
		t.Fatal("a reconnect got fresh buckets")
	}
	h.remove(c2)
	h.limits.sweep(now.Add(3 * time.Second))
	if _, ok := h.limits.users["u"]; ok {
		t.Fatal("full buckets of a gone user not swept")
	}
}
