package router

import (
	"slices"
	"strings"
	"sync"
)

// userRoomPrefix names the room every user sits in: delivering to room
// "user:<id>" reaches all of that user's connections. The hub serves it
// from its per-user list rather than a room of its own, which would cost
// every connection a room and two maps. Clients may not join such rooms.
const userRoomPrefix = "user:"

// hub holds the local connections, rooms and their members. It keeps
// per connection only what fan-out and removal need: an idle connection's
// footprint is what 10k of them cost.
type hub struct {
	mu    sync.RWMutex
	n     int // connections in the hub
	rooms map[string]*room
	users map[string]*user
	// limits keeps users' rate buckets beyond their last connection; nil
	// in tests of the hub alone.
	limits *userLimits
}

type room struct {
	name    string
	members []*conn // iterated on every delivery: a slice, not a map
}

// membership is a room a connection is in, with the connection's position
// in the room's members for O(1) removal. A connection's memberships are
// a short slice, scanned: most connections are in a few rooms, and
// limits.rooms_per_connection bounds them.
type membership struct {
	room *room
	at   int
}

func newHub() *hub {
	return &hub{rooms: make(map[string]*room), users: make(map[string]*user)}
}

// add registers c unless its user already has maxPerUser connections (0:
// no limit; full reports it) or c is closed already: a message handler can
// admit a connection whose read loop has just ended, and OnClose marks it
// closed before it removes it, so checking here, under the hub's lock,
// leaves no ghost behind.
func (h *hub) add(c *conn, maxPerUser int) (added, full bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.inHub || c.isClosed() {
		return false, false
	}
	u := h.users[c.userID]
	if u == nil {
		u = &user{limits: h.limits.acquire(c.userID)}
		h.users[c.userID] = u
	}
	if maxPerUser > 0 && len(u.conns) >= maxPerUser {
		return false, true
	}
	c.userIndex = len(u.conns)
	u.conns = append(u.conns, c)
	c.user = u
	c.inHub = true
	h.n++
	return true, false
}

// remove takes c out of the hub and returns the rooms in which its user
// has no connection left, for user_left events.
func (h *hub) remove(c *conn) (left []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !c.inHub {
		return nil
	}
	c.inHub = false
	h.n--
	for len(c.rooms) > 0 {
		m := c.rooms[len(c.rooms)-1]
		if h.leaveLocked(c, len(c.rooms)-1) {
			left = append(left, m.room.name)
		}
	}
	c.rooms = nil
	u := c.user
	end := len(u.conns) - 1
	moved := u.conns[end]
	u.conns[c.userIndex], moved.userIndex = moved, c.userIndex
	u.conns[end] = nil
	u.conns = u.conns[:end]
	if end == 0 {
		delete(h.users, c.userID)
		h.limits.release(u.limits)
	}
	return left
}

// slot is the index in c.rooms of the room called name, or -1.
func (c *conn) slot(name string) int {
	for i, m := range c.rooms {
		if m.room.name == name {
			return i
		}
	}
	return -1
}

// inRoom reports whether c is a member of r.
func (c *conn) inRoom(r *room) bool {
	for _, m := range c.rooms {
		if m.room == r {
			return true
		}
	}
	return false
}

// userInRoom reports whether a connection of u other than except is in r.
func userInRoom(u *user, r *room, except *conn) bool {
	for _, o := range u.conns {
		if o != except && o.inRoom(r) {
			return true
		}
	}
	return false
}

// join adds c to a room. first reports whether c is its user's first
// connection in the room; joined is false when c was already a member.
// full reports that c is in maxRooms rooms already (its user room aside).
func (h *hub) join(c *conn, name string, maxRooms int) (joined, first, full bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !c.inHub || c.slot(name) >= 0 {
		return false, false, false
	}
	if maxRooms > 0 && len(c.rooms) >= maxRooms {
		return false, false, true
	}
	r := h.rooms[name]
	if r == nil {
		r = &room{name: name}
		h.rooms[name] = r
	}
	first = !userInRoom(c.user, r, c)
	c.rooms = append(c.rooms, membership{room: r, at: len(r.members)})
	r.members = append(r.members, c)
	return true, first, false
}

// leave takes c out of a room. last reports whether its user has no
// connection left there; left is false when c was not a member.
func (h *hub) leave(c *conn, name string) (left, last bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := c.slot(name)
	if i < 0 {
		return false, false
	}
	return true, h.leaveLocked(c, i)
}

// leaveLocked takes c out of the room of its membership i.
func (h *hub) leaveLocked(c *conn, i int) (last bool) {
	m := c.rooms[i]
	c.rooms = slices.Delete(c.rooms, i, i+1)
	r := m.room
	end := len(r.members) - 1
	if m.at != end {
		moved := r.members[end]
		r.members[m.at] = moved
		for j := range moved.rooms {
			if moved.rooms[j].room == r {
				moved.rooms[j].at = m.at
				break
			}
		}
	}
	r.members[end] = nil
	r.members = r.members[:end]
	if len(r.members) == 0 {
		delete(h.rooms, r.name)
	}
	return !userInRoom(c.user, r, c)
}

func (h *hub) isMember(c *conn, name string) bool {
	if id, ok := strings.CutPrefix(name, userRoomPrefix); ok {
		return id == c.userID
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	return c.slot(name) >= 0
}

// toRoom queues frame for every member of a room except skip (may be nil).
func (h *hub) toRoom(name string, frame []byte, skip *conn) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var members []*conn
	if id, ok := strings.CutPrefix(name, userRoomPrefix); ok {
		if u := h.users[id]; u != nil {
			members = u.conns
		}
	} else if r := h.rooms[name]; r != nil {
		members = r.members
	}
	n := 0
	for _, c := range members {
		if c != skip {
			c.send(frame)
			n++
		}
	}
	return n
}

// toAll queues frame for every connection except skip.
func (h *hub) toAll(frame []byte, skip *conn) int {
	n := 0
	h.each(func(c *conn) {
		if c != skip {
			c.send(frame)
			n++
		}
	})
	return n
}

// each calls f for every connection; f must not call back into the hub.
func (h *hub) each(f func(*conn)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, u := range h.users {
		for _, c := range u.conns {
			f(c)
		}
	}
}

func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.n
}
