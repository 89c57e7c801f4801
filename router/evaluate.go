package router

import (
	"context"
	"encoding/json"

	"github.com/switchboard-rt/switchboard/router/config"
)

// Result is what the router would do with a message: see Evaluate.
type Result struct {
	// Verdict is "deliver", "drop", "join", "leave" or "reject".
	Verdict string
	Error   *Error // reject: the error the sender would get
	// Deliver: "room", "user", "sender", "broadcast" or "none".
	To      string
	Room    string // the room to deliver to, join or leave
	User    string // the user to deliver to
	Payload []byte // deliver: the JSON message recipients would get
}

// Evaluate runs msg, sent by userID with claims, through its route (schema,
// policies and plugins, delivery expressions) without any connection and
// without delivering it: the router as a message policy layer, and what
// `switchboard test` runs. Rate limits do not apply, and the sender counts
// as a member of any room it sends to.
func (r *Router) Evaluate(ctx context.Context, userID string, claims map[string]any, msg []byte) Result {
	c := &conn{id: "evaluate", userID: userID, remote: "evaluate", router: r}
	c.claims, c.claimsJSON = r.keptClaims(claims)
	var env envelope
	defer env.release()
	reject := func(e *Error) Result { return Result{Verdict: "reject", Error: e} }
	if err := checkUTF8(msg); err != nil {
		return reject(err)
	}
	if err := parseEnvelope(msg, &env); err != nil {
		return reject(err)
	}
	rt := r.routes[env.typ]
	if rt == nil {
		return reject(&Error{Code: CodeUnknownType, Message: "no route for type " + quote(env.typ)})
	}
	if rt.cfg.Schema != nil {
		if err := checkSchema(env.obj, rt.cfg.Schema); err != nil {
			return reject(err)
		}
	}
	d, err := r.decide(c, rt, &env, msg, 0, true)
	if err != nil {
		return reject(err)
	}
	res := Result{Verdict: d.action}
	switch d.action {
	case "join", "leave":
		res.Room = d.name
	case "deliver":
		res.To, res.Payload = d.to, d.payload
		switch d.to {
		case config.ToRoom:
			res.Room = d.name
		case config.ToUser:
			res.User = d.name
		}
	}
	return res
}

// keptClaims returns the claims a connection keeps, and their JSON for
// WASM plugins: nothing when nothing reads them, so an idle connection
// does not carry a decoded map it never uses.
func (r *Router) keptClaims(claims map[string]any) (map[string]any, []byte) {
	if !r.keepClaims || claims == nil {
		return nil, nil
	}
	if !r.hasWasm {
		return claims, nil
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return claims, nil
	}
	return claims, b
}
