package plugins

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

// Action is what a plugin decided about a message.
type Action uint8

const (
	Allow     = Action(abi.Allow)     // pass the message on unchanged
	Reject    = Action(abi.Reject)    // refuse it: Code and Reason go to the sender's error frame
	Transform = Action(abi.Transform) // replace the envelope with Payload
	Drop      = Action(abi.Drop)      // swallow it silently
	Reroute   = Action(abi.Reroute)   // deliver it to Target instead
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
	return fmt.Sprintf("action(%d)", uint8(a))
}

// MessageInput is what a message-phase plugin sees.
type MessageInput struct {
	Envelope   []byte // the client's JSON envelope, or the previous plugin's transformed one
	Route      string // the route's message type
	UserID     string
	ConnID     string
	RemoteAddr string
	Claims     []byte // the sender's claims as a JSON object, or nil
}

// Verdict is a message-phase decision.
type Verdict struct {
	Action Action
	Code   string // Reject: machine-readable, e.g. "link_not_allowed"
	Reason string // Reject: human-readable
	// Payload is the new JSON envelope (Transform).
	Payload []byte
	// Target is "room:<id>", "user:<id>", "sender", "broadcast" or
	// "route:<type>" (Reroute). The router enforces the hop limit.
	Target string
	// Failed marks the on_error verdict of a call that failed on this
	// message (kinds trap, timeout, memory, exit, malformed, stack): the
	// router counts it against the sender (limits.close_after). A call the
	// breaker refused or that found no instance is not the sender's doing
	// and is not marked.
	Failed bool
}

// ConnectInput is what a connect-phase plugin sees of the upgrade request.
type ConnectInput struct {
	Method, Path, RemoteAddr string
	Header                   http.Header
	Query                    url.Values
	Cookies                  []*http.Cookie
	Subprotocols             []string
}

// ConnectVerdict is a connect-phase decision.
type ConnectVerdict struct {
	Accept bool
	UserID string         // Accept: the identity
	Claims map[string]any // Accept: may be nil
	Code   string         // !Accept
	Reason string         // !Accept
}

// CodePluginError is the reject code when a plugin fails and on_error is "reject".
const CodePluginError = "plugin_error"

// errMalformed marks results that break the ABI's rules.
var errMalformed = errors.New("malformed result")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// DecodeVerdict decodes a guest's packed message result. out is the guest's
// whole output buffer. Everything returned is copied out of out. It is
// exported for SDK test harnesses (package sdktest), which run guests
// natively through the same rules.
func DecodeVerdict(result uint64, out []byte) (Verdict, error) {
	a, codeLen, outLen, ok := abi.Unpack(result)
	if !ok {
		return Verdict{}, malformed("result %#x: reserved bits set, unknown action or code longer than output", result)
	}
	if uint64(outLen) > uint64(len(out)) {
		return Verdict{}, malformed("output of %d bytes exceeds the %d-byte output buffer", outLen, len(out))
	}
	if a != abi.Reject && codeLen != 0 {
		return Verdict{}, malformed("%v with a code", Action(a))
	}
	o := out[:outLen]
	switch Action(a) {
	case Allow, Drop:
		if outLen != 0 {
			return Verdict{}, malformed("%v with %d bytes of output", Action(a), outLen)
		}
		return Verdict{Action: Action(a)}, nil
	case Reject:
		code, reason := o[:codeLen], o[codeLen:]
		if err := checkCode(code); err != nil {
			return Verdict{}, err
		}
		if !utf8.Valid(reason) {
			return Verdict{}, malformed("reject reason is not UTF-8")
		}
		v := Verdict{Action: Reject, Code: "rejected", Reason: string(reason)}
		if len(code) > 0 {
			v.Code = string(code)
		}
		return v, nil
	case Transform:
		if !isJSONObject(o) {
			return Verdict{}, malformed("transform payload is not a JSON object")
		}
		return Verdict{Action: Transform, Payload: append([]byte(nil), o...)}, nil
	case Reroute:
		if err := checkTarget(o); err != nil {
			return Verdict{}, err
		}
		return Verdict{Action: Reroute, Target: string(o)}, nil
	}
	panic("unreachable: abi.Unpack checked the action")
}

// DecodeConnectVerdict decodes a guest's packed connect result.
func DecodeConnectVerdict(result uint64, out []byte) (ConnectVerdict, error) {
	a, codeLen, outLen, ok := abi.Unpack(result)
	if !ok || uint64(outLen) > uint64(len(out)) {
		return ConnectVerdict{}, malformed("result %#x does not fit the ABI or the %d-byte output buffer", result, len(out))
	}
	o := out[:outLen]
	switch Action(a) {
	case Allow:
		if codeLen == 0 && outLen == 0 {
			// A pass: no opinion on who this is; the next connect plugin or
			// the JWT decides.
			return ConnectVerdict{Accept: true}, nil
		}
		var id abi.ConnectIdentity
		if codeLen != 0 || json.Unmarshal(o, &id) != nil {
			return ConnectVerdict{}, malformed("accept output is not an identity object")
		}
		if id.UserID == "" {
			return ConnectVerdict{}, malformed("accept without a userId")
		}
		return ConnectVerdict{Accept: true, UserID: id.UserID, Claims: id.Claims}, nil
	case Reject:
		code, reason := o[:codeLen], o[codeLen:]
		if err := checkCode(code); err != nil {
			return ConnectVerdict{}, err
		}
		if !utf8.Valid(reason) {
			return ConnectVerdict{}, malformed("reject reason is not UTF-8")
		}
		v := ConnectVerdict{Code: "rejected", Reason: string(reason)}
		if len(code) > 0 {
			v.Code = string(code)
		}
		return v, nil
	}
	return ConnectVerdict{}, malformed("%v is not a connect verdict", Action(a))
}

// checkCode: codes end up in JSON error frames and metrics labels, so they
// are kept to a safe alphabet.
func checkCode(code []byte) error {
	for _, c := range code {
		if !(c == '_' || c == '-' || c == '.' || c == ':' || '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z') {
			return malformed("reject code %q: use letters, digits and _-.: only", code)
		}
	}
	return nil
}

func checkTarget(t []byte) error {
	s := string(t)
	switch {
	case s == "sender", s == "broadcast":
		return nil
	case strings.HasPrefix(s, "room:") && len(s) > len("room:"),
		strings.HasPrefix(s, "user:") && len(s) > len("user:"),
		strings.HasPrefix(s, "route:") && len(s) > len("route:"):
		if utf8.Valid(t) {
			return nil
		}
	}
	return malformed("reroute target %q: want room:<id>, user:<id>, sender, broadcast or route:<type>", t)
}

func isJSONObject(b []byte) bool {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// ConnectRequest encodes in as the JSON input of switchboard_on_connect
// (exported for SDK test harnesses).
func ConnectRequest(in *ConnectInput) ([]byte, error) {
	r := abi.ConnectRequest{
		Method:       in.Method,
		Path:         in.Path,
		RemoteAddr:   in.RemoteAddr,
		Headers:      map[string][]string(in.Header),
		Query:        map[string][]string(in.Query),
		Cookies:      map[string]string{},
		Subprotocols: in.Subprotocols,
	}
	for _, c := range in.Cookies {
		if _, dup := r.Cookies[c.Name]; !dup {
			r.Cookies[c.Name] = c.Value
		}
	}
	return json.Marshal(r)
}
