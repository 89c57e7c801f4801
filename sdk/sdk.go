package sdk

import (
	"bytes"
	"encoding/json"
	"strings"
	"unsafe"

	"github.com/switchboard-rt/switchboard/sdk/abi"
	"github.com/switchboard-rt/switchboard/sdk/internal/hook"
)

// Verdict is what a message handler decided. Build it with Allow, Reject,
// Transform, Drop or Reroute.
type Verdict struct {
	action abi.Action
	code   string
	text   string // reason, or target
	data   []byte // payload
}

// Allow passes the message on unchanged.
func Allow() Verdict { return Verdict{action: abi.Allow} }

// Reject refuses the message: the sender gets an error frame with code and
// reason. code is a short machine-readable word such as "link_not_allowed".
func Reject(code, reason string) Verdict {
	return Verdict{action: abi.Reject, code: code, text: reason}
}

// Transform replaces the envelope with payload, a JSON object: the next
// plugin sees it and it is what gets delivered. The SDK copies payload.
func Transform(payload []byte) Verdict { return Verdict{action: abi.Transform, data: payload} }

// Drop swallows the message silently.
func Drop() Verdict { return Verdict{action: abi.Drop} }

// Reroute delivers the message to target instead of the route's target:
// "room:<id>", "user:<id>", "sender", "broadcast" or "route:<type>".
func Reroute(target string) Verdict { return Verdict{action: abi.Reroute, text: target} }

// ConnectVerdict is what a connect handler decided; build it with Accept,
// Pass or Deny.
type ConnectVerdict struct {
	accept bool
	pass   bool
	id     abi.ConnectIdentity
	code   string
	reason string
}

// Accept lets the connection in as userID with claims (claims may be nil).
func Accept(userID string, claims map[string]any) ConnectVerdict {
	return ConnectVerdict{accept: true, id: abi.ConnectIdentity{UserID: userID, Claims: claims}}
}

// Pass has no opinion on the connection: the next connect plugin, then the
// JWT check, decides. (An API-key plugin passes requests without a key, so
// browsers with a token still get in.)
func Pass() ConnectVerdict { return ConnectVerdict{accept: true, pass: true} }

// Deny refuses the connection with a code and reason.
func Deny(code, reason string) ConnectVerdict {
	return ConnectVerdict{code: code, reason: reason}
}

var (
	onInit    func() error
	onMessage func(*Message) Verdict
	onConnect func(*Connect) ConnectVerdict
)

// HandleInit registers f to run once per instance before any message, after
// package initialization. Check the config there: an error fails the load
// (`switchboard validate` reports it at the plugin block).
func HandleInit(f func() error) { onInit = f }

// HandleMessage registers the message-phase handler.
func HandleMessage(f func(*Message) Verdict) { onMessage = f }

// HandleConnect registers the connect-phase handler.
func HandleConnect(f func(*Connect) ConnectVerdict) { onConnect = f }

// Config decodes the plugin's config block (as JSON) into v. Keys that v
// does not have are ignored; see ConfigStrict.
func Config(v any) error { return json.Unmarshal(config(), v) }

// ConfigStrict decodes the plugin's config block (as JSON) into v, and
// refuses a key that v's struct (or a struct inside it) does not have, so
// a misspelt setting fails the load instead of being silently ignored:
//
//	config: unknown field "feilds"
//
// Its errors start with "config: ", and unwrap to encoding/json's.
func ConfigStrict(v any) error {
	d := json.NewDecoder(bytes.NewReader(config()))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return configError{err}
	}
	return nil
}

type configError struct{ err error }

func (e configError) Error() string {
	return "config: " + strings.TrimPrefix(e.err.Error(), "json: ")
}

func (e configError) Unwrap() error { return e.err }

// config is the config block as JSON; {} when there is none.
func config() []byte {
	b := configJSON()
	if len(b) == 0 {
		b = []byte("{}")
	}
	return b
}

// Level is a log level (the values of log/slog's levels).
type Level int32

const (
	LevelDebug Level = abi.LevelDebug
	LevelInfo  Level = abi.LevelInfo
	LevelWarn  Level = abi.LevelWarn
	LevelError Level = abi.LevelError
)

// Log writes msg to the server's log, attributed to this plugin (and to the
// connection when called from a handler).
func Log(level Level, msg string) { hostLog(int32(level), msg) }

// Count adds delta to the plugin's counter name (exported as a metric).
func Count(name string, delta int64) { hostCount(name, delta) }

// Now returns the host's clock as Unix nanoseconds.
func Now() int64 { return hostNow() }

func init() {
	hook.Init = dispatchInit
	hook.Message = dispatchMessage
	hook.Connect = dispatchConnect
	hook.HasMessage = func() bool { return onMessage != nil }
	hook.HasConnect = func() bool { return onConnect != nil }
}

// dispatchInit runs the init handler; on error it writes the text to out and
// returns its length.
func dispatchInit(out []byte) int {
	if onInit == nil {
		return 0
	}
	err := onInit()
	if err == nil {
		return 0
	}
	n := copy(out, err.Error())
	if n == 0 {
		n = copy(out, "init failed")
	}
	return n
}

// msg is reused for every call: handlers must not keep it.
var msg Message

func dispatchMessage(in, out []byte) uint64 {
	if onMessage == nil {
		return abi.Pack(abi.Allow, 0, 0)
	}
	m, ok := abi.ParseMessage(in)
	if !ok {
		// The host wrote an input this SDK does not understand: fail closed.
		return abi.Pack(abi.Reject, 0, 0) | 1<<16 // reserved bit: the host reports "malformed"
	}
	msg.reset(m)
	return writeVerdict(onMessage(&msg), out)
}

// writeVerdict encodes v into out. Output that does not fit gets a larger
// buffer (growOut, which updates the descriptor: ABI.md, "Output larger
// than out_cap"); if none can be had it is reported with its full length
// and not written, and the host treats the result as malformed.
func writeVerdict(v Verdict, out []byte) uint64 {
	need := len(v.data) + len(v.text)
	if v.action == abi.Reject {
		need += min(len(v.code), abi.MaxCodeLen)
	}
	if need > len(out) {
		if g := growOut(need); g != nil {
			out = g
		}
	}
	switch v.action {
	case abi.Allow, abi.Drop:
		return abi.Pack(v.action, 0, 0)
	case abi.Reject:
		code := v.code
		if len(code) > abi.MaxCodeLen {
			code = code[:abi.MaxCodeLen]
		}
		n := len(code) + len(v.text)
		if n <= len(out) {
			copy(out[copy(out, code):], v.text)
		}
		return abi.Pack(abi.Reject, uint32(len(code)), uint32(n))
	case abi.Transform:
		if len(v.data) <= len(out) {
			copy(out, v.data)
		}
		return abi.Pack(abi.Transform, 0, uint32(len(v.data)))
	case abi.Reroute:
		if len(v.text) <= len(out) {
			copy(out, v.text)
		}
		return abi.Pack(abi.Reroute, 0, uint32(len(v.text)))
	}
	return abi.Pack(abi.Reject, 0, 0) | 1<<16
}

var conn Connect

func dispatchConnect(in, out []byte) uint64 {
	if onConnect == nil {
		return writeVerdict(Reject("no_connect_handler", "plugin has no connect handler"), out)
	}
	conn.req = in
	v := onConnect(&conn)
	conn.req = nil
	if !v.accept {
		return writeVerdict(Reject(v.code, v.reason), out)
	}
	if v.pass {
		return abi.Pack(abi.Allow, 0, 0)
	}
	b, err := json.Marshal(v.id)
	if err != nil {
		return writeVerdict(Reject("plugin_error", "claims are not JSON: "+err.Error()), out)
	}
	if len(b) > len(out) {
		if g := growOut(len(b)); g != nil {
			out = g
		}
	}
	if len(b) <= len(out) {
		copy(out, b)
	}
	return abi.Pack(abi.Allow, 0, uint32(len(b)))
}

// str views b as a string without copying; valid while b is unchanged.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
