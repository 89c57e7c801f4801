package config

import (
	"net/netip"
	"regexp"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is a decoded, checked router config. Zero values of optional
// settings are replaced by the defaults documented on each field when the
// config is loaded, so code using a loaded Config never sees them.
type Config struct {
	Server  Server
	Auth    Auth
	Limits  Limits
	Metrics Metrics
	Plugins []*Plugin // in declaration order
	Routes  []*Route  // in declaration order; at most one per Type
	Tests   []*Test   // policy tests run by `switchboard test`

	// Filename is where the config came from ("" when built in Go).
	Filename string

	// ranges are the source ranges of the decoded blocks while Parse
	// checks the config, so a duplicate can say where the first one is.
	ranges map[rangeKey]hcl.Range
}

// Route returns the route for a message type, or nil.
func (c *Config) Route(typ string) *Route {
	for _, r := range c.Routes {
		if r.Type == typ {
			return r
		}
	}
	return nil
}

// Plugin returns the plugin block with that name, or nil.
func (c *Config) Plugin(name string) *Plugin {
	for _, p := range c.Plugins {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Server is the `server` block.
type Server struct {
	Listen         string   // default "127.0.0.1:8080"
	Path           string   // default "/ws"
	MaxPayload     int      // bytes; default 64KiB; "64KiB", "1MB", "512B" or a number
	AllowedOrigins []string // patterns (docs/CONFIG.md "Origins"); empty: same origin as the Host header (requests without Origin are allowed)
	// TrustedProxies are the peers (addresses or CIDR ranges) whose
	// X-Forwarded-For names the client; empty trusts no one.
	TrustedProxies   []netip.Prefix
	HandshakeTimeout time.Duration // default 5s
	// SendQueue is how many bytes may wait to be written to one
	// connection (queued, or in a write the socket has not taken yet)
	// before it counts as a slow consumer and is closed; default 1MiB.
	SendQueue int
	// SendTimeout is how long bytes may wait for a connection whose socket
	// takes none of them before it counts as a slow consumer; default 10s.
	SendTimeout time.Duration
	// WriteDelay is how long a frame queued for an idle connection waits
	// for more to share its write; default 2ms, negative writes at once.
	WriteDelay     time.Duration
	MaxHeaderBytes int // largest upgrade request: request line and header lines; default 16KiB (431 beyond)
	Heartbeat      Heartbeat
	TLS            *TLS // nil: plain ws
}

// TLS is `server { tls { ... } }`: serve wss with this certificate.
type TLS struct {
	CertFile string // PEM certificate (chain); relative to the config file
	KeyFile  string // PEM private key; relative to the config file
}

// Metrics is the `metrics` block: Prometheus metrics from `switchboard
// serve`.
type Metrics struct {
	Enabled bool   // true when the block is present
	Listen  string // a separate listener such as "127.0.0.1:9090"; "" serves on server.listen
	Path    string // default "/metrics"
}

// Limits is the `limits` block: what one client may cost the server.
// Zero means unlimited, except where a default is given.
type Limits struct {
	MessageRate        *Rate // per connection, all routes together
	UserMessageRate    *Rate // per user, all of the user's connections together
	ConnectRate        *Rate // connection attempts per client IP (answered 429 beyond)
	ConnectionsPerUser int   // open connections per user (closed 4008 beyond)
	RoomsPerConnection int   // rooms one connection may be in (join refused beyond); default 100
	// CloseAfter: rate-limit errors in a row before the connection is
	// closed with 4008; default 10. -1 never closes.
	CloseAfter int
}

// Heartbeat is `server { heartbeat { ... } }`.
type Heartbeat struct {
	Interval time.Duration // default 30s; the server pings this often
	Timeout  time.Duration // default 10s; a peer silent for Interval+Timeout is closed
}

// Token sources in `auth { token_from = [...] }`.
const (
	TokenQuery        = "query"         // query:NAME
	TokenCookie       = "cookie"        // cookie:NAME
	TokenHeader       = "header"        // header:authorization (Bearer)
	TokenSubprotocol  = "subprotocol"   // subprotocol
	TokenFirstMessage = "first_message" // first_message
)

// TokenSource is one entry of token_from, e.g. "query:token".
type TokenSource struct {
	Kind string // one of the Token* constants
	Name string // parameter, cookie or header name; "" for subprotocol and first_message
}

// Auth is the `auth` block. A config without one accepts anonymous
// connections (each gets a random user id).
type Auth struct {
	Enabled    bool          // true when the block is present
	TokenFrom  []TokenSource // default [query:token]
	RejectWith string        // "close" (default: accept, then close 4001) or "http" (401)
	JWT        *JWT          // nil when no jwt block
	Plugins    []string      // connect-phase plugins, by name
	// FirstMessageTimeout: with token_from = ["first_message"], how long a
	// new connection has to send {"type":"auth","token":...}; default 5s.
	FirstMessageTimeout time.Duration
	// OnExpiry: what happens when the token expires during a connection:
	// "close" (default) closes with 4001 at exp; "refresh" also closes at
	// exp, but accepts {"type":"auth","token":...} before then to extend it.
	OnExpiry string
}

// JWT is `auth { jwt { ... } }`.
type JWT struct {
	Algorithms  []string      // default ["HS256"]
	Secret      string        // HMAC secret for HS*; may be "" (serve then makes one up for the run)
	PublicKey   string        // PEM public key for RS256, ES256 and EdDSA
	JWKSFile    string        // a JWKS file (keys chosen by kid); relative to the config file
	JWKSURL     string        // a JWKS URL, fetched at start and refreshed
	JWKSRefresh time.Duration // how often JWKSURL is fetched again; default 10m
	Issuer      string        // checked when set
	Audience    string        // checked when set
	Leeway      time.Duration // allowed clock skew for exp, nbf and iat
	// ExpOptional: require_exp = false accepts tokens without exp, which
	// then last as long as the connection. By default exp is required.
	ExpOptional bool
}

// Plugin is a `plugin "name"` block.
type Plugin struct {
	Name    string
	Source  string         // path of the .wasm; Parse resolves a relative one against the config file's directory
	Native  bool           // provided in Go by the program embedding the router (router.WithPolicy): no source
	Config  map[string]any // plugin config, as JSON-compatible values
	Timeout time.Duration  // per call; default 10ms
	Memory  int            // bytes; default 16MiB
	Pool    int            // instances; default 2*GOMAXPROCS when 0
	OnError string         // "reject" (default) or "allow"
	Breaker Breaker        // the breaker block
	Range   hcl.Range      // the block, for diagnostics

	// SourceRange is the source attribute's value in the config, where
	// `switchboard validate` reports a plugin that does not load.
	SourceRange hcl.Range
}

// Breaker is a plugin's circuit breaker (a `breaker` block in the plugin
// block): it opens when Failures of the last Window calls failed and those
// failures came from at least Users distinct users; while open, calls fail
// at once with on_error; after Cooldown calls run again, and it opens again
// if they keep failing. With OnError "allow", Failures has no default: the
// config must state it (see docs/CONFIG.md, breaker).
type Breaker struct {
	Failures int           // failed calls among the last Window that open it; default 10; -1 turns the breaker off
	Window   int           // calls, 1 to 1000; default 20
	Users    int           // distinct users (a connect call: remote hosts) among those failures; default 2 (1 when Failures is 1)
	Cooldown time.Duration // default 5s
}

// MaxBreakerWindow is the largest Breaker.Window: the breaker keeps up to
// that many failures.
const MaxBreakerWindow = 1000

// Route is a `route "type"` block.
type Route struct {
	Type     string
	Schema   []*Field // nil when the route declares no schema: every field passes through
	Action   string   // "", "join" or "leave"
	Room     *Expr    // room for join/leave
	Rate     *Rate    // per connection; nil = unlimited
	UserRate *Rate    // per user, all connections together; nil = unlimited
	Plugins  []string // message-phase plugins, by name, in order
	Deliver  *Deliver // nil for action routes
	// TransformFields are top-level fields a plugin's transform adds that
	// the schema does not declare; they are delivered too. With a schema,
	// other undeclared fields are not (see plugins/ABI.md, "Transform").
	TransformFields []string
	Range           hcl.Range
}

// Field types in a schema.
const (
	TypeString = "string"
	TypeNumber = "number"
	TypeBool   = "bool"
	TypeObject = "object"
	TypeArray  = "array"
)

// Field is `schema { field "name" { ... } }`.
type Field struct {
	Name      string
	Type      string // one of the Type* constants
	Required  bool
	MinLength *int     // strings: runes; arrays: elements
	MaxLength *int     // strings: runes; arrays: elements
	Min       *float64 // numbers; rounded to float64 (see MinExact)
	Max       *float64 // numbers; rounded to float64 (see MaxExact)
	Enum      []string // strings: allowed values
	Pattern   *regexp.Regexp

	// MinExact and MaxExact are min and max as decimal numbers in JSON
	// syntax, exact as the config wrote them ("9007199254740993", which a
	// float64 cannot hold): the router compares numbers with these. ""
	// (a Field built in Go) compares with Min and Max.
	MinExact, MaxExact string
}

// Rate is "N/s", "N/m" or "N/h", with an optional burst ("20/s burst 40"
// is not HCL; burst is a separate attribute when needed).
type Rate struct {
	Count int
	Per   time.Duration
	Burst int // default Count
}

// Delivery targets.
const (
	ToRoom      = "room"
	ToUser      = "user"
	ToSender    = "sender"
	ToBroadcast = "broadcast"
	ToNone      = "none"
)

// Deliver is `route { deliver { ... } }`.
type Deliver struct {
	To            string // one of the To* constants
	Room          *Expr  // when To == ToRoom
	User          *Expr  // when To == ToUser
	ExcludeSender bool
	As            string // outbound type; default the route's type
	// RequireMember, for To == ToRoom: the sender must have joined the room.
	// Default true in HCL, so a client cannot write into rooms it has not
	// joined. Defaults cannot tell an unset false from an explicit one, so
	// a Deliver built in Go must set it itself.
	RequireMember bool
}

// Expression roots.
const (
	FromLiteral = iota
	FromMsg     // msg.<field>: a top-level field of the incoming envelope
	FromUser    // user.id or user.claims.<name>
)

// Expr is an expression such as msg.roomId, user.id or "team:${user.claims.team}",
// compiled at load time into parts that are looked up directly per message.
type Expr struct {
	Parts []ExprPart
	Range hcl.Range
}

// ExprPart is a literal string or one lookup.
type ExprPart struct {
	From    int      // FromLiteral, FromMsg or FromUser
	Literal string   // when From == FromLiteral
	Path    []string // e.g. ["roomId"] for msg.roomId, ["claims","role"] for user.claims.role
}

// Test is a `test "name"` block (policy tests, run offline by `switchboard test`).
type Test struct {
	Name   string
	User   string
	Claims map[string]any
	Send   map[string]any // the envelope the client sends
	Expect TestExpect
	Range  hcl.Range

	// SendJSON is Send as the JSON bytes a client would send: strings as
	// written (not NFC-normalised), numbers exact, members in source order.
	// `switchboard test` evaluates these bytes, as the live server would.
	SendJSON []byte
}

// TestExpect is `test { expect { ... } }`.
type TestExpect struct {
	Verdict string         // "deliver" (default), "reject", "drop", "join" or "leave"
	Code    string         // error code, for reject
	To      string         // delivery target kind
	Room    string         // room, for to = "room", join and leave
	User    string         // user, for to = "user"
	Fields  map[string]any // fields the delivered payload must have
}
