package router

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lxzan/gws"
	"github.com/valyala/fastjson"

	"github.com/switchboard-rt/switchboard/internal/refused"
	"github.com/switchboard-rt/switchboard/router/config"
)

// authMessage handles {"type":"auth","token"}: the first message of a
// connection authenticated in-band, or a token refresh.
func (r *Router) authMessage(c *conn, env *envelope, pending bool) {
	var id identity
	err := errNoToken
	if env.typ == "auth" {
		if tok := env.field("token"); tok != "" {
			id, err = r.auth.verify(tok)
		}
	}
	if pending {
		if err != nil {
			refused.Log(r.log, CloseUnauthorized, err.Error(), c.remote)
			c.shutdown(CloseUnauthorized, "Unauthorized")
			return
		}
		c.mu.Lock()
		c.pending = false
		c.mu.Unlock()
		r.pendingDone(c)
		c.userID = id.userID
		c.claims, c.claimsJSON = r.keptClaims(id.claims)
		c.setExpiry(id.expires)
		r.admit(c)
		if env.id != nil {
			c.reply(encodeFrame(opText, ackFrame(env.id)))
		}
		return
	}
	switch {
	case r.cfg.Auth.OnExpiry != "refresh":
		err = errors.New(`token refresh is off (auth { on_expiry = "refresh" } turns it on)`)
	case err == nil && id.userID != c.userID:
		err = errors.New("the new token is for another user")
	}
	if err != nil {
		r.log.Info("token refresh refused", "conn", c.id, "user", c.userID, "reason", err.Error())
		// A refused refresh counts like any refused frame: token guessing
		// over an open connection ends at close_after.
		r.violation(c, nil, &Error{Code: CodeAuthFailed, Message: tokenProblem(err)}, env.id)
		return
	}
	c.violations = 0
	c.claims, c.claimsJSON = r.keptClaims(id.claims)
	c.setExpiry(id.expires)
	if env.id != nil {
		c.reply(encodeFrame(opText, ackFrame(env.id)))
	}
}

// setExpiry closes the connection with 4001 when its token expires.
func (c *conn) setExpiry(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if t.IsZero() || c.closed {
		return
	}
	c.expiry = time.AfterFunc(time.Until(t), func() {
		refused.Log(c.router.log, CloseUnauthorized, "token expired", c.remote, "user", c.userID)
		c.shutdown(CloseUnauthorized, "token expired")
	})
}

// maxReroutes bounds route-to-route reroutes so two policies cannot bounce
// a message forever.
const maxReroutes = 4

// events receives gws callbacks.
type events struct{ r *Router }

func connOf(ws *gws.Conn) *conn {
	s, _ := ws.Session().(*session)
	if s == nil {
		return nil
	}
	return s.c
}

func (e *events) OnOpen(ws *gws.Conn) {
	c := connOf(ws)
	if c == nil {
		return
	}
	c.touch()
	c.mu.Lock()
	pending := c.pending
	c.mu.Unlock()
	if pending {
		// Nothing but {"type":"auth","token"} is processed until it comes.
		time.AfterFunc(e.r.cfg.Auth.FirstMessageTimeout, func() {
			c.mu.Lock()
			still := c.pending
			c.mu.Unlock()
			if still {
				refused.Log(e.r.log, CloseUnauthorized, "no auth message within first_message_timeout", c.remote)
				c.shutdown(CloseUnauthorized, "Unauthorized")
			}
		})
		return
	}
	e.r.admit(c)
}

// admit adds an authenticated connection to the hub and greets it.
func (r *Router) admit(c *conn) {
	added, full := r.hub.add(c, r.cfg.Limits.ConnectionsPerUser)
	if full {
		refused.Log(r.log, ClosePolicyViolated, reasonTooManyConns, c.remote, "user", c.userID)
		c.shutdown(ClosePolicyViolated, reasonTooManyConns)
	}
	if !added {
		return
	}
	if r.m != nil {
		r.m.connections.Inc()
	}
	c.reply(encodeFrame(opText, systemEvent("connected", "", c.userID)))
	if r.closing.Load() {
		// Authenticated while Close was collecting connections: it may
		// have missed this one.
		c.shutdown(CloseGoingAway, "server shutting down")
	}
}

func (e *events) OnClose(ws *gws.Conn, err error) {
	c := connOf(ws)
	if c == nil {
		return
	}
	if gc, ok := ws.NetConn().(*gwsConn); ok {
		// gws's read loop closed with a protocol-level code: a frame
		// over max_payload (1009), bad UTF-8 (1007), a broken frame or
		// close code (1002). The router's own closes do not go through
		// gwsConn and are logged where they are made.
		code := uint16(gc.sent.Load())
		if reason := protocolRefusal(code, err); reason != "" {
			refused.Log(e.r.log, int(code), reason, c.remote, "user", c.userID)
		}
	}
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	if c.expiry != nil {
		c.expiry.Stop()
	}
	pending := c.pending
	c.mu.Unlock()
	if pending {
		e.r.pendingDone(c)
	}
	if c.user != nil && e.r.m != nil {
		e.r.m.connections.Dec()
	}
	for _, name := range e.r.hub.remove(c) {
		e.r.hub.toRoom(name, encodeFrame(opText, systemEvent("user_left", name, c.userID)), nil)
	}
}

// OnPing answers a ping, within controlRate (see allowControl).
func (e *events) OnPing(ws *gws.Conn, payload []byte) {
	c := connOf(ws)
	if c == nil || !e.r.allowControl(c) {
		return
	}
	c.touch()
	c.reply(encodeFrame(opPong, payload))
}

// OnPong counts toward controlRate like a ping; only the answer to the
// last heartbeat ping sent to the connection gives a round-trip time, once.
func (e *events) OnPong(ws *gws.Conn, payload []byte) {
	c := connOf(ws)
	if c == nil || !e.r.allowControl(c) {
		return
	}
	c.touch()
	if e.r.m == nil || len(payload) != 8 {
		return
	}
	sent := int64(binary.BigEndian.Uint64(payload))
	if sent != 0 && c.lastPing.CompareAndSwap(sent, 0) {
		e.r.m.observePong(time.Unix(0, sent))
	}
}

func (e *events) OnMessage(ws *gws.Conn, msg *gws.Message) {
	defer msg.Close()
	c := connOf(ws)
	if c == nil {
		return
	}
	if !c.touch() {
		return
	}
	e.r.handle(c, msg.Opcode == gws.OpcodeText, msg.Bytes())
}

// touch pushes the read deadline forward: a peer that sends nothing, not
// even a pong, for interval+timeout is gone. It reports false, and leaves
// the deadline at closeGrace, when the connection is closing: its input is
// ignored from then on.
func (c *conn) touch() bool {
	if c.isClosed() {
		return false
	}
	hb := c.router.cfg.Server.Heartbeat
	_ = c.net.SetReadDeadline(time.Now().Add(hb.Interval + hb.Timeout))
	return true
}

// handle runs one incoming frame through its route. Every frame, whatever
// it is, counts against the connection's rates, and one that no route
// takes counts toward close_after like a rate error: a flood of bad frames
// costs its sender the connection, not the server a reply each.
func (r *Router) handle(c *conn, text bool, data []byte) {
	var env envelope
	defer env.release()
	var perr *Error
	if text {
		perr = parseEnvelope(data, &env)
	} else {
		perr = &Error{Code: CodeBinary, Message: "binary frames are not accepted; send JSON text"}
	}
	c.mu.Lock()
	pending := c.pending
	c.mu.Unlock()
	if pending {
		// Nothing but {"type":"auth","token"} opens the connection; any
		// other first frame closes it at once, unanswered (authMessage
		// refuses an envelope of another type).
		if perr != nil {
			refused.Log(r.log, CloseUnauthorized, "first message is not an auth message", c.remote)
			c.shutdown(CloseUnauthorized, "Unauthorized")
			return
		}
		r.authMessage(c, &env, true)
		return
	}
	if !r.allowFrame(c) {
		r.violation(c, nil, &Error{Code: CodeRateLimited, Message: "too many messages; slow down"}, env.id)
		return
	}
	if perr != nil {
		r.violation(c, nil, perr, env.id)
		return
	}
	if env.typ == "auth" && r.cfg.Auth.Enabled {
		r.authMessage(c, &env, false)
		return
	}
	rt := r.routes[env.typ]
	if rt == nil {
		r.violation(c, nil, &Error{Code: CodeUnknownType, Message: "no route for type " + quote(env.typ)}, env.id)
		return
	}
	if rt.messagesIn != nil {
		rt.messagesIn.Inc()
	}
	if !r.allowRoute(c, rt.cfg) {
		r.violation(c, rt, &Error{Code: CodeRateLimited, Message: "too many " + quote(env.typ) + " messages; slow down"}, env.id)
		return
	}
	c.violations = 0
	if rt.cfg.Schema != nil {
		if err := checkSchema(env.obj, rt.cfg.Schema); err != nil {
			r.reject(c, rt, err, env.id)
			return
		}
	}
	d, err := r.decide(c, rt, &env, data, 0, false)
	if err == nil {
		err = r.apply(c, d)
	}
	switch {
	case err != nil:
		if d.route != nil {
			rt = d.route // rerouted: count it where it was decided
		}
		r.reject(c, rt, err, env.id)
	case env.id != nil:
		c.reply(encodeFrame(opText, ackFrame(env.id)))
	}
	r.checkFaults(c, rt)
}

// checkFaults closes with 4008 a connection whose messages made plugins
// fail close_after times. They are counted over the connection's life, not
// in a row: a client alternating failing and good messages is closed too,
// and one client cannot open a plugin's breaker for every user alone.
func (r *Router) checkFaults(c *conn, rt *route) {
	if n := r.cfg.Limits.CloseAfter; n > 0 && c.faults >= n {
		reason := "too many messages the plugins failed on"
		refused.Log(r.log, ClosePolicyViolated, reason, c.remote, "user", c.userID, "route", rt.cfg.Type)
		c.shutdown(ClosePolicyViolated, reason)
	}
}

// violation refuses a frame that was over a rate or that no route takes
// (bad JSON, binary, unknown type, a refused token refresh). After
// close_after of them in a row the connection is closed with 4008, so a
// client gets at most close_after such replies before the close.
func (r *Router) violation(c *conn, rt *route, e *Error, id []byte) {
	c.violations++
	r.reject(c, rt, e, id)
	if n := r.cfg.Limits.CloseAfter; n > 0 && c.violations >= n {
		reason := "too many invalid messages"
		if e.Code == CodeRateLimited {
			reason = "rate limit exceeded"
		}
		route := ""
		if rt != nil {
			route = rt.cfg.Type
		}
		refused.Log(r.log, ClosePolicyViolated, reason, c.remote, "user", c.userID, "route", route)
		c.shutdown(ClosePolicyViolated, reason)
	}
}

// reject tells the sender why its message was refused, and counts it.
func (r *Router) reject(c *conn, rt *route, e *Error, id []byte) {
	if r.m != nil {
		name := ""
		if rt != nil {
			name = rt.cfg.Type
		}
		r.m.rejections.WithLabelValues(name, e.plugin, e.Code).Inc()
	}
	c.sendError(e, id)
}

// decision is what a route decided for one message. It is computed
// without touching the hub, so Evaluate can report it and handle can carry
// it out.
type decision struct {
	action  string // "deliver", "drop", "join" or "leave"
	to      string // deliver: one of the config.To* targets
	name    string // the room (deliver to a room, join, leave) or the user (deliver to a user)
	exclude bool   // deliver: not to the sender
	frame   []byte // deliver: the outbound frame, header included
	payload []byte // deliver: the frame's JSON, a slice of frame
	route   *route // the route that decided (after reroutes)
}

// decide applies the route's policies and works out the action or the
// delivery. offline (Evaluate) skips the checks that need the hub.
func (r *Router) decide(c *conn, rt *route, env *envelope, data []byte, hops int, offline bool) (decision, *Error) {
	var target string      // a reroute's target, "" for the route's own
	var lastReroute string // the plugin that set target
	transformed := false   // transform_fields apply to a transform's output only
	out := env
	if len(rt.policies) > 0 {
		msg := &Message{Type: rt.cfg.Type, UserID: c.userID, ConnID: c.id, Claims: c.claims, Remote: c.remote, claimsJSON: c.claimsJSON}
		for _, p := range rt.policies {
			var start time.Time
			if p.seconds != nil {
				start = time.Now()
			}
			msg.Payload = data
			v := p.HandleMessage(context.Background(), msg)
			if p.seconds != nil {
				p.seconds.Observe(time.Since(start).Seconds())
			}
			if v.Failed && !offline {
				c.faults++
			}
			switch v.Action {
			case Allow:
			case Reject:
				code := v.Code
				if code == "" {
					code = "rejected"
				}
				return decision{}, &Error{Code: code, Message: v.Reason, plugin: p.name}
			case Drop:
				return decision{action: "drop", route: rt}, nil
			case Transform:
				next := new(envelope)
				if err := parseEnvelope(v.Payload, next); err != nil {
					next.release()
					r.log.Warn("plugin output is not a JSON envelope", "plugin", p.name, "route", rt.cfg.Type, "err", err.Message)
					return decision{}, &Error{Code: CodeBadPayload, Message: "a plugin's transform of the message is not a valid message", plugin: p.name}
				}
				defer next.release()
				r.checkTransformFields(rt, p.name, out, next)
				out, data, transformed = next, v.Payload, true
			case Reroute:
				if name, ok := strings.CutPrefix(v.Target, "route:"); ok {
					nrt := r.routes[name]
					if nrt == nil {
						r.log.Warn("plugin rerouted to an unknown route", "plugin", p.name, "route", rt.cfg.Type, "target", name)
						return decision{}, &Error{Code: CodeUnknownType, Message: "the message was rerouted to an unknown route " + quote(name), plugin: p.name}
					}
					if hops >= maxReroutes {
						return decision{}, &Error{Code: CodeTooManyReroute, Message: "message rerouted too many times", plugin: p.name}
					}
					return r.decide(c, nrt, out, data, hops+1, offline)
				}
				target, lastReroute = v.Target, p.name
			}
		}
	}
	rc := rt.cfg
	d := decision{action: rc.Action, route: rt}
	if rc.Action == "join" || rc.Action == "leave" {
		if target != "" {
			// Nothing is delivered: a reroute would be silently lost.
			return decision{}, &Error{Code: CodeBadPayload, Message: "a " + quote(rc.Type) + " message " + rc.Action + "s a room and cannot be rerouted", plugin: lastReroute}
		}
		var err *Error
		if d.name, err = c.eval(rc.Room, out, "room to "+rc.Action); err != nil {
			return decision{}, err
		}
		if strings.HasPrefix(d.name, userRoomPrefix) {
			return decision{}, errReservedRoom
		}
		return d, nil
	}
	dl := rc.Deliver
	d.action, d.to, d.exclude = "deliver", dl.To, dl.ExcludeSender
	switch {
	case target == config.ToSender, target == config.ToBroadcast:
		d.to = target
	case strings.HasPrefix(target, "room:"):
		d.to, d.name = config.ToRoom, target[len("room:"):]
	case strings.HasPrefix(target, "user:"):
		d.to, d.name = config.ToUser, target[len("user:"):]
	case target != "":
		return decision{}, &Error{Code: CodeMissingTarget, Message: "unknown reroute target " + quote(target)}
	case d.to == config.ToNone:
		return d, nil
	case d.to == config.ToRoom:
		var err *Error
		if d.name, err = c.eval(dl.Room, out, "room to deliver to"); err != nil {
			return decision{}, err
		}
		if strings.HasPrefix(d.name, userRoomPrefix) {
			// A user's own room is for the server (SendToUser, plugins'
			// reroutes, deliver to = "user"): a client naming it is refused
			// as a join of it is, even its own, which it is a member of.
			return decision{}, errReservedRoom
		}
		if dl.RequireMember && !offline && !r.hub.isMember(c, d.name) {
			return decision{}, &Error{Code: CodeNotMember, Message: "join room " + quote(d.name) + " before sending to it"}
		}
	case d.to == config.ToUser:
		var err *Error
		if d.name, err = c.eval(dl.User, out, "user to deliver to"); err != nil {
			return decision{}, err
		}
	}
	fields := rc.Schema
	if transformed {
		fields = rt.outFields
	}
	if out.obj == nil {
		fields = nil
	}
	buf := appendOutbound(make([]byte, maxFrameHeader, 256), dl.As, out.obj, fields, c.userID, time.Now().UnixMilli(), r.nextID())
	d.frame = frameInPlace(buf, opText)
	d.payload = buf[maxFrameHeader:]
	return d, nil
}

// errReservedRoom refuses a client's join of, or send to, a room named
// "user:<id>".
var errReservedRoom = &Error{Code: CodeForbidden, Message: "rooms starting with " + quote(userRoomPrefix) + " are reserved for the server"}

// apply carries out a decision for the message c sent.
func (r *Router) apply(c *conn, d decision) *Error {
	switch d.action {
	case "join":
		joined, first, full := r.hub.join(c, d.name, r.cfg.Limits.RoomsPerConnection)
		if full {
			return &Error{Code: CodeTooManyRooms, Message: "this connection is in too many rooms; leave one first"}
		}
		// The room hears of the join before the joiner's reply goes out, so
		// whoever the joiner talks to next has seen it.
		if joined && first {
			r.hub.toRoom(d.name, encodeFrame(opText, systemEvent("user_joined", d.name, c.userID)), c)
		}
		c.reply(encodeFrame(opText, systemEvent("room_joined", d.name, "")))
	case "leave":
		left, last := r.hub.leave(c, d.name)
		if !left {
			return &Error{Code: CodeNotMember, Message: "not a member of room " + quote(d.name)}
		}
		if last {
			r.hub.toRoom(d.name, encodeFrame(opText, systemEvent("user_left", d.name, c.userID)), nil)
		}
		c.reply(encodeFrame(opText, systemEvent("room_left", d.name, "")))
	case "deliver":
		var skip *conn
		if d.exclude {
			skip = c
		}
		n := 0
		switch d.to {
		case config.ToRoom:
			n = r.hub.toRoom(d.name, d.frame, skip)
		case config.ToUser:
			n = r.hub.toRoom(userRoomPrefix+d.name, d.frame, skip)
		case config.ToSender:
			c.reply(d.frame)
			n = 1
		case config.ToBroadcast:
			n = r.hub.toAll(d.frame, skip)
		}
		if d.route.deliveries != nil {
			d.route.deliveries.Add(float64(n))
		}
	}
	return nil
}

// eval computes a compiled expression for this message.
// eval returns the value of a room or user expression, or the refusal
// when a reference in it is missing, empty or not a string: a template
// such as "team:${user.claims.team}" must not collapse to "team:", one
// room shared by every user without the claim. what names the target for
// the message, e.g. "room to join".
func (c *conn) eval(e *config.Expr, env *envelope, what string) (string, *Error) {
	if e == nil || len(e.Parts) == 0 {
		return "", &Error{Code: CodeMissingTarget, Message: "no " + what}
	}
	if len(e.Parts) == 1 {
		return c.evalPart(&e.Parts[0], env, what)
	}
	var b strings.Builder
	for i := range e.Parts {
		s, err := c.evalPart(&e.Parts[i], env, what)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// evalPart returns one part's value. A message field that is there but not
// a string is the sender's mistake (invalid_field, naming the field); a
// field or claim that is absent, null or empty gives no target
// (missing_target). Numbers are refused, not rendered: 5, 5.0 and 5e0
// would be three rooms (docs/RATIONALE.md, "Templates refuse missing
// values").
func (c *conn) evalPart(p *config.ExprPart, env *envelope, what string) (string, *Error) {
	switch p.From {
	case config.FromLiteral:
		return p.Literal, nil
	case config.FromMsg:
		name := p.Path[0]
		var v *fastjson.Value
		if env.obj != nil {
			v = env.obj.Get(name)
		}
		if v == nil || v.Type() == fastjson.TypeNull {
			return "", &Error{Code: CodeMissingTarget, Message: "no " + what + ": the message has no " + quote(name) + " field", Field: name}
		}
		if v.Type() != fastjson.TypeString {
			return "", &Error{Code: CodeInvalidField, Message: quote(name) + " must be a string: it gives the " + what, Field: name}
		}
		b, _ := v.StringBytes()
		if len(b) == 0 {
			return "", &Error{Code: CodeMissingTarget, Message: "no " + what + ": " + quote(name) + " is empty", Field: name}
		}
		return string(b), nil
	case config.FromUser:
		if p.Path[0] == "id" {
			if c.userID == "" {
				return "", &Error{Code: CodeMissingTarget, Message: "no " + what + ": the user has no id"}
			}
			return c.userID, nil
		}
		if p.Path[0] == "claims" && len(p.Path) > 1 {
			name := p.Path[1]
			v, ok := c.claims[name]
			if !ok || v == nil {
				return "", &Error{Code: CodeMissingTarget, Message: "no " + what + ": the token has no " + quote(name) + " claim"}
			}
			s, ok := v.(string)
			if !ok {
				return "", &Error{Code: CodeMissingTarget, Message: "no " + what + ": the token's " + quote(name) + " claim is not a string"}
			}
			if s == "" {
				return "", &Error{Code: CodeMissingTarget, Message: "no " + what + ": the token's " + quote(name) + " claim is empty"}
			}
			return s, nil
		}
	}
	return "", &Error{Code: CodeMissingTarget, Message: "no " + what}
}

func (c *conn) sendError(e *Error, id []byte) {
	b := append([]byte(nil), `{"type":"error","code":`...)
	b = appendString(b, e.Code)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	if e.Field != "" {
		b = append(b, `,"field":`...)
		b = appendString(b, e.Field)
	}
	if id != nil {
		b = append(b, `,"id":`...)
		b = append(b, id...)
	}
	c.reply(encodeFrame(opText, append(b, '}')))
}

func ackFrame(id []byte) []byte {
	b := append([]byte(nil), `{"type":"ack","id":`...)
	b = append(b, id...)
	return append(b, '}')
}

// systemEvent encodes the server's own events: connected, room_joined,
// room_left, user_joined, user_left.
func systemEvent(typ, roomID, userID string) []byte {
	b := append([]byte(nil), `{"type":`...)
	b = appendString(b, typ)
	if roomID != "" {
		b = append(b, `,"roomId":`...)
		b = appendString(b, roomID)
	}
	if userID != "" {
		b = append(b, `,"userId":`...)
		b = appendString(b, userID)
	}
	return append(b, '}')
}

// maxQuoted bounds how much of a client's input an error message quotes:
// a reply must not echo a 64 KiB "type" back.
const maxQuoted = 64

// quote is s as a JSON string for an error message, cut to maxQuoted bytes.
func quote(s string) string { return string(appendString(nil, clip(s, maxQuoted))) }

// clip cuts s to at most n bytes, on a rune boundary, and marks the cut
// with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// A rune is at most utf8.UTFMax bytes: further back, s is not UTF-8
	// there, and appendString replaces the bytes anyway.
	for i := n; i > n-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return s[:n] + "…"
}
