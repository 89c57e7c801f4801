package router

import "github.com/switchboard-rt/switchboard/plugins"

// Message is what a policy sees of one incoming message.
type Message struct {
	Type    string         // the route's type
	Payload []byte         // the JSON envelope as sent, or as transformed by an earlier policy
	UserID  string         // the sender's user id
	ConnID  string         // the sender's connection id
	Claims  map[string]any // the sender's token claims (nil when anonymous)
	Remote  string         // the sender's remote address

	claimsJSON []byte // Claims encoded once per connection, for WASM plugins
}

// Action is what a policy decides for a message. It is the plugins
// package's type, so a WASM plugin's verdict and a Go policy's are one
// thing.
type Action = plugins.Action

// The actions.
const (
	Allow     = plugins.Allow     // pass the message on unchanged
	Reject    = plugins.Reject    // refuse it: the sender gets an error with Code and Reason
	Transform = plugins.Transform // replace the payload with Verdict.Payload and go on
	Drop      = plugins.Drop      // discard it silently; the sender still gets its ack
	Reroute   = plugins.Reroute   // deliver to Verdict.Target instead of the route's target
)

// Verdict is a policy's decision: Action, then Code and Reason (Reject),
// Payload (Transform: the new JSON envelope) or Target (Reroute:
// "room:<id>", "user:<id>", "sender", "broadcast" or "route:<type>", which
// runs that route instead, up to a hop limit).
type Verdict = plugins.Verdict

// Error is an error sent to a client as {"type":"error","code","message"}.
type Error struct {
	Code    string
	Message string
	Field   string // the schema field at fault, when there is one
	plugin  string // the plugin that rejected the message, for metrics
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
