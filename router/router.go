package router

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lxzan/gws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-rt/switchboard/internal/origin"
	"github.com/switchboard-rt/switchboard/internal/refused"
	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/router/config"
)

// Config is a router config, usually loaded from HCL with LoadConfig.
type Config = config.Config

// LoadConfig reads and checks an HCL config file. Its error, when not nil,
// carries every problem found, each with its file:line:col.
func LoadConfig(path string) (*Config, error) { return config.Load(path) }

// ParseConfig decodes HCL source; filename is used in diagnostics and to
// resolve relative plugin paths.
func ParseConfig(src []byte, filename string) (*Config, error) { return config.Parse(src, filename) }

// Policy decides what happens to a message on a route: the WASM plugins
// implement it, and so can Go code embedding the router (WithPolicy).
type Policy interface {
	HandleMessage(ctx context.Context, m *Message) Verdict
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(ctx context.Context, m *Message) Verdict

// HandleMessage calls f.
func (f PolicyFunc) HandleMessage(ctx context.Context, m *Message) Verdict { return f(ctx, m) }

// Option configures New.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	policies map[string]Policy
	metrics  prometheus.Registerer
}

// WithLogger sets the structured logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithPolicy provides a Go policy under a plugin name: a route listing
// `plugin.<name>` runs it. The config declares it as
// `plugin "<name>" { native = true }` (no source), so that the config alone
// validates; New fails when a native plugin has no policy.
func WithPolicy(name string, p Policy) Option {
	return func(o *options) { o.policies[name] = p }
}

// Router is the real-time core: connections, rooms, routes and delivery.
// It is an http.Handler that upgrades requests to WebSocket.
type Router struct {
	cfg           *Config
	log           *slog.Logger
	auth          *authenticator
	routes        map[string]*route
	hub           *hub
	batchers      []*writeBatcher
	upgrader      *gws.Upgrader
	upgraderProto *gws.Upgrader // for clients offering Subprotocol
	node          string        // prefix of message ids, unique per process
	seq           atomic.Uint64
	closing       atomic.Bool
	stop          chan struct{}
	wg            sync.WaitGroup
	connects      ipLimiter
	m             *metrics      // nil without WithMetrics
	host          *plugins.Host // nil without WASM plugins
	keepClaims    bool          // a route expression or a policy reads claims
	hasWasm       bool          // some route runs a WASM plugin (which reads claims as JSON)
	tooLarge      string        // the reason of a 1009 close (see gwsConn)

	// Connections waiting for their auth message, outside the hub.
	pendingMu sync.Mutex
	pending   map[*conn]struct{}
	// origins are allowed_origins, parsed; none: same origin only.
	origins []origin.Pattern
}

type route struct {
	cfg         *config.Route
	policies    []namedPolicy
	messagesIn  prometheus.Counter // nil without metrics
	deliveries  prometheus.Counter // nil without metrics
	outFields   []*config.Field    // the fields delivered: schema and transform_fields; nil = all
	undeclared  sync.Map           // "plugin\x00field" a transform added, warned about once
	undeclaredN atomic.Int32       // entries in undeclared
}

type namedPolicy struct {
	name string
	Policy
	seconds prometheus.Observer // call durations; nil without metrics
}

// New builds a router from a config. Zero values in cfg get their
// documented defaults.
func New(cfg *Config, opts ...Option) (*Router, error) {
	o := options{logger: slog.Default(), policies: map[string]Policy{}}
	for _, opt := range opts {
		opt(&o)
	}
	cfg.Defaults()
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	r := &Router{
		cfg:      cfg,
		log:      o.logger,
		routes:   make(map[string]*route, len(cfg.Routes)),
		hub:      newHub(),
		batchers: newWriteBatchers(cfg.Server.WriteDelay),
		node:     randomID()[:8],
		stop:     make(chan struct{}),
		connects: ipLimiter{rate: cfg.Limits.ConnectRate},
		tooLarge: tooLargeReason(cfg.Server.MaxPayload),
	}
	r.hub.limits = newUserLimits(cfg)
	for _, o := range cfg.Server.AllowedOrigins {
		p, err := origin.Parse(o)
		if err != nil { // Check reported it
			return nil, fmt.Errorf("router: allowed_origins: %w", err)
		}
		r.origins = append(r.origins, p)
	}
	policies, connect, err := r.loadPlugins(&o)
	if err == nil {
		r.auth, err = newAuthenticator(cfg.Auth, connect, o.logger)
	}
	if err != nil {
		r.closePlugins()
		return nil, err
	}
	if o.metrics != nil {
		r.m = newMetrics(o.metrics)
	}
	r.keepClaims = len(connect) > 0
	for _, rc := range cfg.Routes {
		rt := &route{cfg: rc, outFields: outFields(rc)}
		if r.m != nil {
			rt.messagesIn = r.m.messagesIn.WithLabelValues(rc.Type)
			rt.deliveries = r.m.deliveries.WithLabelValues(rc.Type)
		}
		for _, name := range rc.Plugins {
			p, ok := policies[name]
			if !ok {
				r.closePlugins()
				r.auth.stop()
				return nil, fmt.Errorf("route %q: plugin %q is not available", rc.Type, name)
			}
			if _, ok := p.(wasmPolicy); ok {
				r.hasWasm = true
			}
			np := namedPolicy{name: name, Policy: p}
			if r.m != nil {
				np.seconds = r.m.pluginSeconds.WithLabelValues(name)
			}
			rt.policies = append(rt.policies, np)
		}
		r.routes[rc.Type] = rt
		r.keepClaims = r.keepClaims || len(rt.policies) > 0 || readsClaims(rc)
	}
	opt := func(protos []string) *gws.ServerOption {
		return &gws.ServerOption{
			ReadMaxPayloadSize: cfg.Server.MaxPayload,
			ReadBufferSize:     gwsReadBuffer,
			// Messages are handled on a short-lived goroutine, one at a
			// time and in order (a limit of 1), so the read loop's own
			// stack, which every idle connection keeps, never grows to
			// the depth of a route's handling.
			ParallelEnabled:  true,
			ParallelGolimit:  1,
			CheckUtf8Enabled: true, // relayed text must stay valid UTF-8 for every recipient
			HandshakeTimeout: cfg.Server.HandshakeTimeout,
			NewSession:       func() gws.SessionStorage { return &session{} },
			SubProtocols:     protos,
			Logger:           gwsLogger{o.logger},
		}
	}
	// gws refuses a handshake that names none of its subprotocols, so
	// clients that offer ours get an upgrader that answers with it, and the
	// rest one that answers with none.
	r.upgrader = gws.NewUpgrader(&events{r}, opt(nil))
	r.upgraderProto = gws.NewUpgrader(&events{r}, opt([]string{Subprotocol}))
	r.wg.Add(1)
	go r.heartbeat()
	return r, nil
}

// ServeHTTP upgrades the request to a WebSocket connection: origin check,
// authentication, then the read loop.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.closing.Load() {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	if headerBytes(req) > r.cfg.Server.MaxHeaderBytes {
		// Exact, where http.Server.MaxHeaderBytes lets 4 KiB more through.
		http.Error(w, "request header too large", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	if addr := clientAddr(req, r.cfg.Server.TrustedProxies); addr != req.RemoteAddr {
		// Handlers must not modify their request: a shallow copy, once
		// per upgrade through a trusted proxy, carries the client's
		// address to limits, plugins and logs.
		proxied := *req
		proxied.RemoteAddr = addr
		req = &proxied
	}
	if !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		refused.Log(r.log, http.StatusUpgradeRequired, "not a WebSocket upgrade (no Upgrade: websocket)", req.RemoteAddr, "method", req.Method)
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this endpoint speaks WebSocket only", http.StatusUpgradeRequired)
		return
	}
	if !r.connects.allow(req) {
		refused.Log(r.log, http.StatusTooManyRequests, "connect rate", req.RemoteAddr)
		http.Error(w, "too many connection attempts; retry later", http.StatusTooManyRequests)
		return
	}
	if !r.originAllowed(req) {
		refused.Log(r.log, http.StatusForbidden, "origin not allowed", req.RemoteAddr, "origin", req.Header.Get("Origin"))
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if status, msg := handshakeProblem(req); status != 0 {
		refused.Log(r.log, status, msg, req.RemoteAddr)
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		http.Error(w, msg, status)
		return
	}
	id, err := r.auth.authenticate(req)
	pending := errors.Is(err, errAwaitMessage)
	upgrader := r.upgrader
	if slices.Contains(offeredSubprotocols(req.Header), Subprotocol) {
		upgrader = r.upgraderProto
	}
	if err != nil && !pending {
		code := CloseUnauthorized
		if r.cfg.Auth.RejectWith == "http" {
			code = http.StatusUnauthorized
		}
		refused.Log(r.log, code, err.Error(), req.RemoteAddr)
		if r.cfg.Auth.RejectWith == "http" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		// Browsers cannot read an HTTP status from a failed upgrade: accept,
		// then close with 4001 so the client knows not to retry.
		ws, _, err := r.upgrade(upgrader, w, req)
		if err != nil {
			return
		}
		_ = ws.WriteClose(CloseUnauthorized, []byte("Unauthorized"))
		go ws.ReadLoop() // returns at once; gives gws its buffers back
		return
	}
	ws, nc, err := r.upgrade(upgrader, w, req)
	if err != nil {
		r.log.Debug("upgrade failed", "remote", req.RemoteAddr, "err", err)
		return
	}
	c := r.newConn(nc)
	c.id, c.userID, c.remote, c.pending = randomID(), id.userID, req.RemoteAddr, pending
	c.claims, c.claimsJSON = r.keptClaims(id.claims)
	c.setExpiry(id.expires)
	ws.Session().(*session).c = c
	if pending {
		r.pendingAdd(c)
	}
	go ws.ReadLoop()
}

// headerBytes is the size of req's request line and header, each header
// line counted as "Name: value\r\n" (net/http keeps no raw copy), and the
// blank line that ends them.
func headerBytes(req *http.Request) int {
	n := len(req.Method) + len(" ") + len(req.RequestURI) + len(" ") + len(req.Proto) + len("\r\n")
	if req.Host != "" {
		n += len("Host: ") + len(req.Host) + len("\r\n") // net/http moves it out of Header
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n + len("\r\n")
}

func (r *Router) closePlugins() {
	if r.host != nil {
		_ = r.host.Close(context.Background())
	}
}

// readsClaims reports whether a route's expressions use user.claims.
func readsClaims(rc *config.Route) bool {
	exprs := []*config.Expr{rc.Room}
	if d := rc.Deliver; d != nil {
		exprs = append(exprs, d.Room, d.User)
	}
	for _, e := range exprs {
		if e == nil {
			continue
		}
		for _, p := range e.Parts {
			if p.From == config.FromUser && p.Path[0] == "claims" {
				return true
			}
		}
	}
	return false
}

// originAllowed implements the CSWSH defence: a browser always sends
// Origin, so a foreign one is refused; clients that send none (servers,
// CLIs) are allowed. Without allowed_origins the page must come from the
// address the browser connected to (origin.Same; docs/CONFIG.md).
func (r *Router) originAllowed(req *http.Request) bool {
	o := req.Header.Get("Origin")
	if o == "" {
		return true
	}
	if len(r.origins) == 0 {
		return origin.Same(o, req.Host, req.TLS != nil || r.cfg.Server.TLS != nil)
	}
	for _, p := range r.origins {
		if p.Match(o) {
			return true
		}
	}
	return false
}

// heartbeat pings every connection each interval. Dead peers are found by
// the read deadline each frame pushes forward (see touch).
func (r *Router) heartbeat() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.Server.Heartbeat.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			ping := encodeFrame(opPing, pingPayload(now)) // shared by every connection
			sent := now.UnixNano()
			r.hub.each(func(c *conn) {
				// Only this ping's pong gives a round trip: a client
				// cannot feed the metric times of its own.
				c.lastPing.Store(sent)
				c.send(ping)
			})
			r.connects.sweep(now)
			r.hub.limits.sweep(now)
		}
	}
}

// Close closes every connection with 1001 and stops the router. It
// returns when all connections are gone or ctx is done.
func (r *Router) Close(ctx context.Context) error {
	if r.closing.Swap(true) {
		return nil
	}
	close(r.stop)
	r.wg.Wait()
	r.auth.stop()
	// Plugins close first: a call in flight stops at its next yield, so a
	// connection whose read loop is inside a long plugin call (a timeout of
	// minutes) reaches its close now, not when the call would have ended.
	r.closePlugins()
	var all []*conn
	r.hub.each(func(c *conn) { all = append(all, c) })
	r.pendingMu.Lock()
	for c := range r.pending {
		all = append(all, c)
	}
	r.pendingMu.Unlock()
	for _, c := range all {
		c.shutdown(CloseGoingAway, "server shutting down")
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for r.hub.count()+r.pendingCount() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("router: %d connections still open: %w", r.hub.count()+r.pendingCount(), ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// pendingAdd keeps a connection that waits for its auth message, so Close
// can send it 1001 too; one that arrives while the router closes gets it
// at once.
func (r *Router) pendingAdd(c *conn) {
	r.pendingMu.Lock()
	if r.pending == nil {
		r.pending = make(map[*conn]struct{})
	}
	r.pending[c] = struct{}{}
	r.pendingMu.Unlock()
	if r.closing.Load() {
		c.shutdown(CloseGoingAway, "server shutting down")
	}
}

// pendingDone forgets a connection that authenticated or closed.
func (r *Router) pendingDone(c *conn) {
	r.pendingMu.Lock()
	delete(r.pending, c)
	r.pendingMu.Unlock()
}

func (r *Router) pendingCount() int {
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	return len(r.pending)
}

// Publish delivers msg to every member of a room. msg is a JSON object
// with a "type" (a []byte or json.RawMessage is used as is; anything else
// is marshalled); the router adds "ts" and "id".
func (r *Router) Publish(ctx context.Context, room string, msg any) error {
	frame, err := r.serverFrame(msg)
	if err != nil {
		return err
	}
	r.hub.toRoom(room, frame, nil)
	return ctx.Err()
}

// SendToUser delivers msg to every connection of a user.
func (r *Router) SendToUser(ctx context.Context, userID string, msg any) error {
	return r.Publish(ctx, userRoomPrefix+userID, msg)
}

// Broadcast delivers msg to every connection.
func (r *Router) Broadcast(ctx context.Context, msg any) error {
	frame, err := r.serverFrame(msg)
	if err != nil {
		return err
	}
	r.hub.toAll(frame, nil)
	return ctx.Err()
}

// Connections returns the number of open connections on this node.
func (r *Router) Connections() int { return r.hub.count() }

func (r *Router) serverFrame(msg any) ([]byte, error) {
	var raw []byte
	switch m := msg.(type) {
	case []byte:
		raw = m
	case json.RawMessage:
		raw = m
	default:
		b, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("router: message cannot be encoded as JSON: %w", err)
		}
		raw = b
	}
	var env envelope
	defer env.release()
	e := checkUTF8(raw)
	if e == nil {
		e = parseEnvelope(raw, &env)
	}
	if e != nil {
		return nil, fmt.Errorf("router: %s", e.Message)
	}
	return encodeFrame(opText, appendOutbound(nil, env.typ, env.obj, nil, "", time.Now().UnixMilli(), r.nextID())), nil
}

func (r *Router) nextID() string {
	return r.node + "-" + strconv.FormatUint(r.seq.Add(1), 36)
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func randomID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// session is the gws per-connection storage, cut down to the one pointer
// the router needs instead of gws's default mutex and map.
type session struct{ c *conn }

func (s *session) Len() int { return 1 }
func (s *session) Load(string) (any, bool) {
	return s.c, s.c != nil
}
func (s *session) Delete(string) { s.c = nil }
func (s *session) Store(_ string, v any) {
	s.c, _ = v.(*conn)
}
func (s *session) Range(f func(string, any) bool) { f("conn", s.c) }

type gwsLogger struct{ l *slog.Logger }

func (g gwsLogger) Error(v ...any) { g.l.Error(fmt.Sprint(v...)) }
