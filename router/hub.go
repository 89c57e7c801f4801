package router

import (
	"strings"
	"sync"
)

// userRoomPrefix names the room every user sits in: delivering to room
// "user:<id>" reaches all of that user's connections. The hub serves it
// from its per-user list rather than a room of its own, which would cost
// every connection a room and two maps. Clients may not join such rooms.
const userRoomPrefix = "user:"

// hub holds the local connections, rooms and their members.
type hub struct {
	mu    sync.RWMutex
	conns map[*conn]struct{}
	rooms map[string]*room
	users map[string]*user
}

type room struct {
	members []*conn        // iterated on every delivery: a slice, not a map
	index   map[*conn]int  // position in members, for O(1) removal
	users   map[string]int // member connections per user, for presence events
}

func newHub() *hub {
	return &hub{conns: make(map[*conn]struct{}), rooms: make(map[string]*room), users: make(map[string]*user)}
}

// add registers c unless its user already has maxPerUser connections (0:
// no limit; full reports it) or c is closed already: a message handler can
// admit a connection whose read loop has just ended, and OnClose marks it
// closed before it removes it, so checking here, under the hub's lock,
// leaves no ghost behind.
func (h *hub) add(c *conn, maxPerUser int) (added, full bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.isClosed() {
		return false, false
	}
	u := h.users[c.userID]
	if u == nil {
		u = &user{}
		h.users[c.userID] = u
	}
	if maxPerUser > 0 && len(u.conns) >= maxPerUser {
		return false, true
	}
	c.userIndex = len(u.conns)
	u.conns = append(u.conns, c)
	c.user = u
	h.conns[c] = struct{}{}
	return true, false
}

// remove takes c out of the hub and returns the rooms in which its user
// has no connection left, for user_left events.
func (h *hub) remove(c *conn) (left []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return nil
	}
	delete(h.conns, c)
	u := c.user
	end := len(u.conns) - 1
	moved := u.conns[end]
	u.conns[c.userIndex], moved.userIndex = moved, c.userIndex
	u.conns[end] = nil
	u.conns = u.conns[:end]
	if end == 0 {
		delete(h.users, c.userID)
	}
	for name := range c.rooms {
		if h.leaveLocked(c, name) {
			left = append(left, name)
		}
	}
	return left
}

// join adds c to a room. first reports whether c is its user's first
// connection in the room; joined is false when c was already a member.
// full reports that c is in maxRooms rooms already (its user room aside).
func (h *hub) join(c *conn, name string, maxRooms int) (joined, first, full bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return false, false, false
	}
	if _, ok := c.rooms[name]; !ok && maxRooms > 0 && len(c.rooms) >= maxRooms {
		return false, false, true
	}
	joined, first = h.joinLocked(c, name)
	return joined, first, false
}

func (h *hub) joinLocked(c *conn, name string) (joined, first bool) {
	if _, ok := c.rooms[name]; ok {
		return false, false
	}
	r := h.rooms[name]
	if r == nil {
		r = &room{index: make(map[*conn]int), users: make(map[string]int)}
		h.rooms[name] = r
	}
	r.index[c] = len(r.members)
	r.members = append(r.members, c)
	r.users[c.userID]++
	if c.rooms == nil {
		c.rooms = make(map[string]struct{})
	}
	c.rooms[name] = struct{}{}
	return true, r.users[c.userID] == 1
}

// leave takes c out of a room. last reports whether its user has no
// connection left there; left is false when c was not a member.
func (h *hub) leave(c *conn, name string) (left, last bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := c.rooms[name]; !ok {
		return false, false
	}
	return true, h.leaveLocked(c, name)
}

func (h *hub) leaveLocked(c *conn, name string) (last bool) {
	delete(c.rooms, name)
	r := h.rooms[name]
	if r == nil {
		return false
	}
	i, ok := r.index[c]
	if !ok {
		return false
	}
	end := len(r.members) - 1
	if i != end {
		moved := r.members[end]
		r.members[i] = moved
		r.index[moved] = i
	}
	r.members[end] = nil
	r.members = r.members[:end]
	delete(r.index, c)
	r.users[c.userID]--
	if r.users[c.userID] == 0 {
		delete(r.users, c.userID)
		last = true
	}
	if len(r.members) == 0 {
		delete(h.rooms, name)
	}
	return last
}

func (h *hub) isMember(c *conn, name string) bool {
	if id, ok := strings.CutPrefix(name, userRoomPrefix); ok {
		return id == c.userID
	}
	h.mu.RLock()
	_, ok := c.rooms[name]
	h.mu.RUnlock()
	return ok
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
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for c := range h.conns {
		if c != skip {
			c.send(frame)
			n++
		}
	}
	return n
}

// each calls f for every connection; f must not call back into the hub.
func (h *hub) each(f func(*conn)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.conns {
		f(c)
	}
}

func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}
