package router

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-rt/switchboard/internal/refused"
	"github.com/switchboard-rt/switchboard/router/config"
)

// Error codes for limits.
const (
	CodeTooManyRooms = "too_many_rooms" // limits.rooms_per_connection reached
	CodeAuthFailed   = "auth_failed"    // an in-band token refresh was refused
)

// ClosePolicyViolated reasons.
const (
	reasonTooManyConns = "too many connections for this user"
	reasonTooManyPings = "too many pings and pongs"
)

// bucket is a token bucket. It has no lock: its owner guards it.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(rc *config.Rate, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = float64(rc.Burst)
	} else {
		b.tokens += now.Sub(b.last).Seconds() * float64(rc.Count) / rc.Per.Seconds()
		if max := float64(rc.Burst); b.tokens > max {
			b.tokens = max
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// buckets holds the buckets of one connection or one user, by route type
// ("" for all routes together). A slice, scanned: it holds a few entries
// (one per rated route used), and a map would cost every idle connection
// and every user a few hundred bytes more.
type buckets []keyedBucket

type keyedBucket struct {
	key string
	bucket
}

func (bs *buckets) take(key string, rc *config.Rate, now time.Time) bool {
	for i := range *bs {
		if (*bs)[i].key == key {
			return (*bs)[i].take(rc, now)
		}
	}
	*bs = append(*bs, keyedBucket{key: key})
	return (*bs)[len(*bs)-1].take(rc, now)
}

// user is what the router keeps per user with a connection on this node.
type user struct {
	conns  []*conn      // guarded by the hub's lock
	limits *userBuckets // nil when no user rate is set
}

// userBuckets are one user's buckets for user_message_rate and the routes'
// user_rate.
type userBuckets struct {
	held bool // the hub has a user for it; guarded by userLimits.mu

	mu sync.Mutex
	b  buckets
}

// userLimits keeps each user's buckets from their first use until they
// are full again, whether or not the user still has a connection: a user
// who reconnects finds them as it left them, so a reconnect loop cannot
// reset its rates (docs/SECURITY.md, "Attacks tried").
type userLimits struct {
	full  time.Duration // the longest refill of a user rate; 0: no user rates
	mu    sync.Mutex
	users map[string]*userBuckets
}

func newUserLimits(cfg *config.Config) *userLimits {
	l := &userLimits{users: make(map[string]*userBuckets)}
	rates := []*config.Rate{cfg.Limits.UserMessageRate}
	for _, rc := range cfg.Routes {
		rates = append(rates, rc.UserRate)
	}
	for _, rc := range rates {
		if rc != nil {
			l.full = max(l.full, refill(rc))
		}
	}
	return l
}

// refill is how long an empty bucket of rc takes to fill.
func refill(rc *config.Rate) time.Duration {
	return time.Duration(float64(rc.Burst) / float64(rc.Count) * float64(rc.Per))
}

// acquire returns the buckets of user id for the hub's user, or nil when
// no user rate is set. l may be nil.
func (l *userLimits) acquire(id string) *userBuckets {
	if l == nil || l.full == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ub := l.users[id]
	if ub == nil {
		ub = new(userBuckets)
		l.users[id] = ub
	}
	ub.held = true
	return ub
}

// release is called when the hub forgets the user of ub: its buckets stay
// until sweep finds them full.
func (l *userLimits) release(ub *userBuckets) {
	if ub == nil {
		return
	}
	l.mu.Lock()
	ub.held = false
	l.mu.Unlock()
}

// sweep forgets the buckets of users without a connection that have
// refilled: they are indistinguishable from new ones, and the map must not
// grow without bound.
func (l *userLimits) sweep(now time.Time) {
	if l == nil || l.full == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, ub := range l.users {
		if ub.held {
			continue
		}
		ub.mu.Lock()
		idle := true
		for i := range ub.b {
			idle = idle && now.Sub(ub.b[i].last) > l.full
		}
		ub.mu.Unlock()
		if idle {
			delete(l.users, id)
		}
	}
}

// allowFrame applies the rates every frame of c counts against, whatever
// it is: limits.message_rate and user_message_rate.
func (r *Router) allowFrame(c *conn) bool {
	l := &r.cfg.Limits
	if l.MessageRate == nil && l.UserMessageRate == nil {
		return true
	}
	now := time.Now()
	if l.MessageRate != nil && !c.limits.take("", l.MessageRate, now) {
		return false
	}
	if l.UserMessageRate == nil || c.user == nil || c.user.limits == nil {
		return true
	}
	ub := c.user.limits
	ub.mu.Lock()
	defer ub.mu.Unlock()
	return ub.b.take("", l.UserMessageRate, now)
}

// allowRoute applies the rates of c's message's route, rate and user_rate.
func (r *Router) allowRoute(c *conn, rc *config.Route) bool {
	if rc.Rate == nil && rc.UserRate == nil {
		return true
	}
	now := time.Now()
	if rc.Rate != nil && !c.limits.take(rc.Type, rc.Rate, now) {
		return false
	}
	if rc.UserRate == nil || c.user == nil || c.user.limits == nil {
		return true
	}
	ub := c.user.limits
	ub.mu.Lock()
	defer ub.mu.Unlock()
	return ub.b.take(rc.Type, rc.UserRate, now)
}

// controlRate bounds a connection's pings and pongs, each ping costing a
// pong. A client answering heartbeats, or pinging every few seconds to keep
// a proxy's idle timeout at bay, sends far fewer. Control frames have a
// bucket of their own: gws reads them on its read loop, concurrently with
// the message handler that owns conn.limits.
var controlRate = &config.Rate{Count: 10, Per: time.Second, Burst: 20}

// maxPendingControl is how many pings and pongs a connection waiting for
// its auth message may send; the next one closes it with 4001.
const maxPendingControl = 3

// allowControl counts a ping or pong of c against controlRate. Over it the
// frame is ignored (a ping gets no pong), and close_after such frames in a
// row close the connection with 4008. It runs on gws's read loop, which
// alone touches c.control and c.controlRefused.
func (r *Router) allowControl(c *conn) bool {
	c.mu.Lock()
	pending, closed := c.pending, c.closed
	c.mu.Unlock()
	if closed {
		return false
	}
	if pending {
		c.controlRefused++
		if c.controlRefused > maxPendingControl {
			refused.Log(r.log, CloseUnauthorized, "too many pings and pongs before the auth message", c.remote)
			c.shutdown(CloseUnauthorized, "Unauthorized")
			return false
		}
		return true
	}
	if c.control.take(controlRate, time.Now()) {
		c.controlRefused = 0
		return true
	}
	c.controlRefused++
	if n := r.cfg.Limits.CloseAfter; n > 0 && c.controlRefused >= n {
		refused.Log(r.log, ClosePolicyViolated, reasonTooManyPings, c.remote, "user", c.userID)
		c.shutdown(ClosePolicyViolated, reasonTooManyPings)
	}
	return false
}

// ipLimiter limits connection attempts per client address.
type ipLimiter struct {
	rate *config.Rate
	mu   sync.Mutex
	ips  map[string]*bucket
}

func (l *ipLimiter) allow(req *http.Request) bool {
	if l.rate == nil {
		return true
	}
	ip, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		ip = req.RemoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ips == nil {
		l.ips = make(map[string]*bucket)
	}
	b := l.ips[ip]
	if b == nil {
		b = new(bucket)
		l.ips[ip] = b
	}
	return b.take(l.rate, time.Now())
}

// sweep forgets addresses whose bucket has refilled: they are
// indistinguishable from new ones, and the map must not grow without bound.
func (l *ipLimiter) sweep(now time.Time) {
	if l.rate == nil {
		return
	}
	full := refill(l.rate)
	l.mu.Lock()
	defer l.mu.Unlock()
	for ip, b := range l.ips {
		if now.Sub(b.last) > full {
			delete(l.ips, ip)
		}
	}
}

// clientAddr is the address of the client behind req: the TCP peer, or,
// when the peer is a trusted proxy, the nearest address in X-Forwarded-For
// that is not itself a trusted proxy. Each proxy appends the address it
// got the request from, so only the entries added by trusted proxies can
// be believed: reading from the right stops at the first one a trusted
// proxy did not vouch for. A malformed entry ends the walk at the peer.
func clientAddr(req *http.Request, proxies []netip.Prefix) string {
	if len(proxies) == 0 {
		return req.RemoteAddr
	}
	peer, err := netip.ParseAddrPort(req.RemoteAddr)
	if err != nil || !trusted(proxies, peer.Addr()) {
		return req.RemoteAddr
	}
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	client := ""
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil || a.Zone() != "" {
			break
		}
		client = a.Unmap().String()
		if !trusted(proxies, a) {
			break
		}
	}
	if client == "" {
		return req.RemoteAddr
	}
	return client
}

func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
