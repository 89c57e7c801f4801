package router

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-rt/switchboard/router/config"
)

// Error codes for limits.
const (
	CodeTooManyRooms = "too_many_rooms" // limits.rooms_per_connection reached
	CodeAuthFailed   = "auth_failed"    // an in-band token refresh was refused
)

// ClosePolicyViolated reasons.
const reasonTooManyConns = "too many connections for this user"

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
// ("" for all routes together).
type buckets map[string]*bucket

func (bs *buckets) take(key string, rc *config.Rate, now time.Time) bool {
	if *bs == nil {
		*bs = make(buckets)
	}
	b := (*bs)[key]
	if b == nil {
		b = new(bucket)
		(*bs)[key] = b
	}
	return b.take(rc, now)
}

// user is what the router keeps per user with a connection on this node.
type user struct {
	conns []*conn // guarded by the hub's lock

	mu     sync.Mutex
	limits buckets
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
	u := c.user
	if l.UserMessageRate == nil || u == nil {
		return true
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.limits.take("", l.UserMessageRate, now)
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
	u := c.user
	if rc.UserRate == nil || u == nil {
		return true
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.limits.take(rc.Type, rc.UserRate, now)
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
	full := time.Duration(float64(l.rate.Burst) / float64(l.rate.Count) * float64(l.rate.Per))
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
