package router

import "strconv"

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

// Action is what a policy decides for a message.
type Action uint8

const (
	Allow     Action = iota // pass the message on unchanged
	Reject                  // refuse it: the sender gets an error with Code and Reason
	Transform               // replace the payload with Verdict.Payload and go on
	Drop                    // discard it silently; the sender still gets its ack
	Reroute                 // deliver to Verdict.Target instead of the route's target
)

func (a Action) String() string {
	switch a {
	case Allow:
		return "allow"
	case Reject:
		return "reject"
	case Transform:
		return "transform"
	case Drop:
		return "drop"
	case Reroute:
		return "reroute"
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Verdict is a policy's decision.
type Verdict struct {
	Action  Action
	Code    string // Reject: the error code sent to the sender
	Reason  string // Reject: the error message
	Payload []byte // Transform: the new JSON envelope
	// Reroute: "room:<id>", "user:<id>", "sender", "broadcast" or
	// "route:<type>" (run that route's pipeline instead, up to a hop limit).
	Target string
}

// Error is an error sent to a client as {"type":"error","code","message"}.
type Error struct {
	Code    string
	Message string
	Field   string // the schema field at fault, when there is one
	plugin  string // the plugin that rejected the message, for metrics
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
