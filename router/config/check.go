package config

import (
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/switchboard-rt/switchboard/internal/origin"
	"github.com/switchboard-rt/switchboard/internal/plugindefaults"
)

// Defaults fills every zero-valued optional setting with the default
// documented on its field. Parse calls it; call it on a Config built in Go.
func (c *Config) Defaults() {
	s := &c.Server
	orDefault(&s.Listen, "127.0.0.1:8080")
	orDefault(&s.Path, "/ws")
	orDefault(&s.MaxPayload, 64<<10)
	orDefault(&s.HandshakeTimeout, 5*time.Second)
	orDefault(&s.SendQueue, 1<<20)
	orDefault(&s.SendTimeout, 10*time.Second)
	orDefault(&s.WriteDelay, 2*time.Millisecond)
	orDefault(&s.Heartbeat.Interval, 30*time.Second)
	orDefault(&s.Heartbeat.Timeout, 10*time.Second)

	a := &c.Auth
	if a.Enabled && len(a.TokenFrom) == 0 {
		a.TokenFrom = []TokenSource{{Kind: TokenQuery, Name: "token"}}
	}
	orDefault(&a.RejectWith, "close")
	if a.JWT != nil && len(a.JWT.Algorithms) == 0 {
		a.JWT.Algorithms = []string{"HS256"}
	}

	for _, p := range c.Plugins {
		orDefault(&p.Timeout, plugindefaults.Timeout)
		orDefault(&p.Memory, plugindefaults.Memory)
		orDefault(&p.OnError, plugindefaults.OnError)
		if p.OnError != "allow" { // with allow, the config says it: see check
			orDefault(&p.Breaker.Failures, plugindefaults.BreakerFailures)
		}
		orDefault(&p.Breaker.Window, plugindefaults.BreakerWindow)
		orDefault(&p.Breaker.Users, min(plugindefaults.BreakerUsers, max(1, p.Breaker.Failures))) // failures = 1: one user
		orDefault(&p.Breaker.Cooldown, plugindefaults.BreakerCooldown)
	}
	if c.Metrics.Enabled {
		orDefault(&c.Metrics.Path, "/metrics")
	}
	l := &c.Limits
	orDefault(&l.RoomsPerConnection, 100)
	orDefault(&l.CloseAfter, 10)
	for _, r := range []*Rate{l.MessageRate, l.UserMessageRate, l.ConnectRate} {
		if r != nil {
			orDefault(&r.Burst, r.Count)
		}
	}
	orDefault(&s.MaxHeaderBytes, 16<<10)
	orDefault(&a.FirstMessageTimeout, 5*time.Second)
	orDefault(&a.OnExpiry, "close")
	if a.JWT != nil {
		orDefault(&a.JWT.JWKSRefresh, 10*time.Minute)
	}
	for _, r := range c.Routes {
		for _, rate := range []*Rate{r.Rate, r.UserRate} {
			if rate != nil {
				orDefault(&rate.Burst, rate.Count)
			}
		}
		if r.Deliver != nil {
			orDefault(&r.Deliver.As, r.Type)
		}
	}
	for _, t := range c.Tests {
		orDefault(&t.Expect.Verdict, "deliver")
	}
}

func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Check applies the rules of the config to a Config built in Go, after
// Defaults. It returns every problem, one line each, joined with
// errors.Join; nil when there is none. Parse applies the same rules and
// reports them with source ranges instead.
func (c *Config) Check() error {
	var errs []error
	c.check(func(_ any, attr, where, summary, detail string) {
		if attr != "" {
			where += " " + attr
		}
		errs = append(errs, fmt.Errorf("%s: %s; %s", where, summary, detail))
	})
	return errors.Join(errs...)
}

// reporter receives one problem: obj is the object at fault (a *Route, a
// *Field, ...), attr the attribute ("" for the whole block, "plugins[1]"
// for a list entry), where a readable path to obj for Check's messages.
//
// A problem caused by an attribute's absence is reported on that attribute:
// the diagnostic then falls back to the block's range, and is skipped when
// the attribute is there but its value was already reported as invalid.
type reporter func(obj any, attr, where, summary, detail string)

// report turns problems into diagnostics at the ranges the decoder saw.
func (d *decoder) report(filename string) reporter {
	return func(obj any, attr, _, summary, detail string) {
		if d.failed[rangeKey{obj, attr}] {
			return // already reported as a value error; don't pile on
		}
		rng, ok := d.ranges[rangeKey{obj, attr}]
		if !ok {
			// "room msg.roomId" (a reference within room) falls back to room.
			if a, _, sub := strings.Cut(attr, " "); sub {
				rng, ok = d.ranges[rangeKey{obj, a}]
			}
		}
		if !ok {
			rng, ok = d.ranges[rangeKey{obj, ""}]
		}
		if !ok {
			start := hcl.Pos{Line: 1, Column: 1}
			rng = hcl.Range{Filename: filename, Start: start, End: start}
		}
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail:   detail,
			Subject:  rng.Ptr(),
		})
	}
}

// The accepted values of enumerated settings.
var (
	rejectWiths   = []string{"close", "http"}
	jwtAlgorithms = []string{"HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"}
	onErrors      = []string{"reject", "allow"}
	onExpiries    = []string{"close", "refresh"}
	actions       = []string{"join", "leave"}
	fieldTypes    = []string{TypeString, TypeNumber, TypeBool, TypeObject, TypeArray}
	targets       = []string{ToRoom, ToUser, ToSender, ToBroadcast, ToNone}
	verdicts      = []string{"deliver", "reject", "drop", "join", "leave"}
	// Types the server itself sends; a route or a delivered message of
	// that type would be mistaken for the server's own frames.
	reservedTypes = []string{"error", "ack", "connected"}
)

func (c *Config) check(report reporter) {
	c.checkServer(report)
	c.checkAuth(report)
	c.checkLimits(report)
	c.checkMetrics(report)

	plugins := map[string]bool{}
	for _, p := range c.Plugins {
		where := fmt.Sprintf("plugin %q", p.Name)
		switch {
		case !hclsyntax.ValidIdentifier(p.Name):
			report(p, "name", where, "Invalid plugin name", fmt.Sprintf("%q cannot be referenced as plugin.<name>: use letters, digits, underscores and dashes, starting with a letter, such as \"no_links\".", p.Name))
		case plugins[p.Name]:
			report(p, "name", where, "Duplicate plugin", fmt.Sprintf("Another plugin block is named %q%s; rename one of them.", p.Name, c.firstDeclared(c.Plugin(p.Name))))
		}
		plugins[p.Name] = true
		switch {
		case p.Native && p.Source != "":
			report(p, "source", where, "Native plugin with a source", `A native plugin is provided by the Go program embedding the router (router.WithPolicy); remove source, or remove native = true to load the .wasm.`)
		case !p.Native && p.Source == "":
			report(p, "source", where, "Missing plugin source", `source is the path of the plugin's .wasm file, relative to the config file, such as "plugins/no_links.wasm". A plugin provided in Go by an embedding program says native = true instead.`)
		}
		if p.Timeout < 0 || p.Memory < 0 || p.Pool < 0 {
			report(p, "", where, "Negative limit", "timeout, memory and pool must not be negative.")
		}
		switch br := p.Breaker; {
		case br.Failures < -1 || br.Window < 0 || br.Window > MaxBreakerWindow || br.Users < 0 || br.Cooldown < 0:
			report(p, "", where, "Invalid breaker", fmt.Sprintf("breaker.failures must be at least 1 (or -1 to turn the breaker off), breaker.window between 1 and %d, breaker.users at least 1 and breaker.cooldown more than zero.", MaxBreakerWindow))
		case br.Failures > 0 && (br.Failures > br.Window || br.Users > br.Failures):
			report(&p.Breaker, "failures", where+" breaker", "Invalid breaker", fmt.Sprintf("The breaker could never open: breaker.failures (%d) must be at most breaker.window (%d), and breaker.users (%d) at most breaker.failures.", br.Failures, br.Window, br.Users))
		case br.Failures == 0 && p.OnError == "allow":
			report(p, "on_error", where, "Unstated breaker with on_error allow", `While this plugin's circuit breaker is open, on_error = "allow" delivers every message of its routes unchecked, and clients that make the plugin fail can open it. Say that this is intended with breaker { failures = 10 }, or turn the breaker off with breaker { failures = -1 } (a failing plugin then costs its timeout per message).`)
		}
		if p.OnError != "" && !slices.Contains(onErrors, p.OnError) {
			report(p, "on_error", where, "Invalid on_error", oneOf(p.OnError, onErrors)+` "reject" fails closed when the plugin traps or times out; "allow" lets the message through.`)
		}
	}
	c.checkPluginRefs(report, &c.Auth, "auth", c.Auth.Plugins)

	reserved := reservedTypes
	if c.Auth.Enabled {
		// {"type":"auth","token":...} carries a first-message token or a
		// refresh.
		reserved = append(slices.Clip(reserved), "auth")
	}
	types := map[string]bool{}
	for _, r := range c.Routes {
		where := fmt.Sprintf("route %q", r.Type)
		switch {
		case r.Type == "":
			report(r, "name", where, "Empty route type", `The label of a route is the message type it handles, as in route "send_message" { ... }.`)
		case slices.Contains(reserved, r.Type):
			report(r, "name", where, "Reserved route type", fmt.Sprintf("The server sends %q messages itself (reserved: %s), so a client cannot send one; choose another type.", r.Type, quoteList(reserved)))
		case types[r.Type]:
			report(r, "name", where, "Duplicate route", fmt.Sprintf("Another route handles %q%s; each message type has one route. Merge the two blocks.", r.Type, c.firstDeclared(c.Route(r.Type))))
		}
		types[r.Type] = true
		c.checkRoute(report, r, where)
		checkFieldRefs(report, r, where)
		c.checkPluginRefs(report, r, where, r.Plugins)
		checkTransformFields(report, r, where)
	}

	tests := map[string]bool{}
	for _, t := range c.Tests {
		where := fmt.Sprintf("test %q", t.Name)
		if tests[t.Name] {
			report(t, "name", where, "Duplicate test", fmt.Sprintf("Another test is named %q%s; rename one of them.", t.Name, c.firstDeclared(c.test(t.Name))))
		}
		tests[t.Name] = true
		if _, ok := t.Send["type"].(string); !ok {
			report(t, "send", where, "Test message without type", `send is the envelope the client sends and needs a string type, as in send = { type = "send_message", roomId = "lobby", text = "hi" }.`)
		}
		e := &t.Expect
		where += " expect"
		if !slices.Contains(verdicts, e.Verdict) && e.Verdict != "" {
			report(e, "verdict", where, "Invalid verdict", oneOf(e.Verdict, verdicts))
		}
		if e.Code != "" && e.Verdict != "reject" && slices.Contains(verdicts, e.Verdict) {
			report(e, "code", where, "Code without reject", `code is the error code of a rejected message; set verdict = "reject" or remove code.`)
		}
		if e.To != "" && !slices.Contains(targets, e.To) {
			report(e, "to", where, "Invalid delivery target", oneOf(e.To, targets))
		}
	}
}

func (c *Config) checkServer(report reporter) {
	s := &c.Server
	if _, _, err := net.SplitHostPort(s.Listen); err != nil && s.Listen != "" {
		report(s, "listen", "server", "Invalid listen address", fmt.Sprintf("%q is not host:port; write e.g. \"127.0.0.1:8080\", or \":8080\" for every interface.", s.Listen))
	}
	if s.Path != "" && !strings.HasPrefix(s.Path, "/") {
		report(s, "path", "server", "Invalid path", fmt.Sprintf("The WebSocket path must start with \"/\", as in \"/ws\"; got %q.", s.Path))
	}
	if s.MaxPayload < 0 || s.SendQueue < 0 || s.SendTimeout < 0 || s.HandshakeTimeout < 0 || s.Heartbeat.Interval < 0 || s.Heartbeat.Timeout < 0 || s.MaxHeaderBytes < 0 {
		report(s, "", "server", "Negative limit", "Sizes, counts and durations must not be negative.")
	}
	if s.WriteDelay > time.Second {
		report(s, "write_delay", "server", "Invalid duration", fmt.Sprintf("write_delay holds every write back this long; a few milliseconds batch writes under load, %s would stall delivery (at most 1s).", s.WriteDelay))
	}
	if s.AllowedOrigins != nil && len(s.AllowedOrigins) == 0 {
		report(s, "allowed_origins", "server", "Empty allowed_origins", `An empty list would refuse every browser. Remove allowed_origins to allow pages served from the address the browser connects to (same origin), or list the sites allowed to connect, as in ["https://app.example.com"].`)
	}
	for i, o := range s.AllowedOrigins {
		if _, err := origin.Parse(o); err != nil {
			report(s, fmt.Sprintf("allowed_origins[%d]", i), "server", "Invalid origin", err.Error()+".")
		}
	}
	if t := s.TLS; t != nil {
		// Reported on the attribute, so that hcl's "Missing required
		// argument" is not repeated; this catches cert_file = "".
		for _, f := range []struct{ attr, path string }{{"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
			if f.path == "" {
				report(t, f.attr, "server tls", "Incomplete TLS", "A tls block needs cert_file and key_file, both PEM files.")
			}
		}
	}
}

func (c *Config) checkAuth(report reporter) {
	a := &c.Auth
	if !a.Enabled {
		return
	}
	for i, ts := range a.TokenFrom {
		if msg := tokenSourceProblem(ts); msg != "" {
			report(a, fmt.Sprintf("token_from[%d]", i), "auth", "Invalid token source", msg+` Token sources are "query:NAME", "cookie:NAME", "header:authorization", "subprotocol" and "first_message".`)
		}
	}
	if a.FirstMessageTimeout < 0 {
		report(a, "first_message_timeout", "auth", "Negative duration", "first_message_timeout must be more than zero, such as \"5s\".")
	}
	if a.OnExpiry != "" && !slices.Contains(onExpiries, a.OnExpiry) {
		report(a, "on_expiry", "auth", "Invalid on_expiry", oneOf(a.OnExpiry, onExpiries)+` "close" closes with 4001 when the token expires; "refresh" also accepts {"type":"auth","token":...} to extend it.`)
	}
	for _, ts := range a.TokenFrom {
		if ts.Kind == TokenCookie && slices.Contains(c.Server.AllowedOrigins, "*") {
			report(a, "token_from", "auth", "Cookie auth with allowed_origins = [\"*\"]", `With cookie:`+ts.Name+` and every origin allowed, any web page the user visits could open a connection as the user (cross-site WebSocket hijacking). List the sites allowed to connect instead, as in ["https://app.example.com"].`)
		}
		if ts.Kind == TokenCookie && len(c.Server.AllowedOrigins) == 0 {
			// Browsers send cookies on cross-site WebSocket upgrades: without
			// an origin list any site could act as the user (CSWSH).
			report(a, "token_from", "auth", "Cookie auth without allowed_origins", `With cookie:`+ts.Name+` any web page the user visits could open a connection as the user (cross-site WebSocket hijacking). List the sites allowed to connect in server { allowed_origins = ["https://app.example.com"] }.`)
		}
	}
	if !slices.Contains(rejectWiths, a.RejectWith) && a.RejectWith != "" {
		report(a, "reject_with", "auth", "Invalid reject_with", oneOf(a.RejectWith, rejectWiths)+` "close" accepts the socket and closes it with 4001 (browsers can see that); "http" answers 401.`)
	}
	if a.JWT == nil && len(a.Plugins) == 0 {
		report(a, "plugins", "auth", "Nothing verifies tokens", "An auth block needs a jwt block, connect-phase plugins (plugins = [plugin.<name>]), or both. To accept anonymous connections, remove the auth block.")
	}
	j := a.JWT
	if j == nil {
		return
	}
	asymmetric := ""
	for _, alg := range j.Algorithms {
		if !slices.Contains(jwtAlgorithms, alg) {
			report(j, "algorithms", "auth jwt", "Unsupported JWT algorithm", oneOf(alg, jwtAlgorithms))
		} else if !strings.HasPrefix(alg, "HS") {
			asymmetric = alg
		}
	}
	if j.JWKSURL != "" && !strings.HasPrefix(j.JWKSURL, "https://") && !strings.HasPrefix(j.JWKSURL, "http://") {
		report(j, "jwks_url", "auth jwt", "Invalid JWKS URL", fmt.Sprintf("%q is not an http(s) URL; write e.g. \"https://auth.example.com/.well-known/jwks.json\".", j.JWKSURL))
	}
	sources := 0
	for _, v := range []string{j.PublicKey, j.JWKSFile, j.JWKSURL} {
		if v != "" {
			sources++
		}
	}
	if sources > 1 {
		report(j, "", "auth jwt", "Several key sources", "Give one of public_key, jwks_file and jwks_url: with several it would be unclear which key verifies a token.")
	}
	switch {
	case asymmetric != "" && j.PublicKey == "" && j.JWKSFile == "" && j.JWKSURL == "":
		report(j, "algorithms", "auth jwt", "Missing public key", fmt.Sprintf("%s tokens are verified with a public key: add public_key = file(\"jwt.pub\") with the PEM-encoded key, jwks_file or jwks_url.", asymmetric))
	case j.PublicKey != "":
		if b, _ := pem.Decode([]byte(j.PublicKey)); b == nil {
			report(j, "public_key", "auth jwt", "Invalid public key", `public_key must be a PEM-encoded key ("-----BEGIN PUBLIC KEY-----" ...); file("jwt.pub") reads one from a file.`)
		}
	}
	if j.JWKSRefresh < 0 {
		report(j, "jwks_refresh", "auth jwt", "Negative duration", "jwks_refresh must be more than zero, such as \"10m\".")
	}
	if j.Leeway < 0 {
		report(j, "leeway", "auth jwt", "Negative leeway", "leeway is the clock skew allowed for exp and nbf, such as \"30s\".")
	}
}

func (c *Config) checkMetrics(report reporter) {
	m := &c.Metrics
	if _, _, err := net.SplitHostPort(m.Listen); err != nil && m.Listen != "" {
		report(m, "listen", "metrics", "Invalid listen address", fmt.Sprintf("%q is not host:port; write e.g. \"127.0.0.1:9090\", or leave listen out to serve metrics on server.listen.", m.Listen))
	}
	if m.Path != "" && !strings.HasPrefix(m.Path, "/") {
		report(m, "path", "metrics", "Invalid path", fmt.Sprintf("The metrics path must start with \"/\", as in \"/metrics\"; got %q.", m.Path))
	}
	if m.Listen == "" && m.Path == c.Server.Path && m.Path != "" {
		report(m, "path", "metrics", "Path taken", "The metrics path is the WebSocket path; choose another, such as \"/metrics\".")
	}
}

func (c *Config) checkLimits(report reporter) {
	l := &c.Limits
	if l.ConnectionsPerUser < 0 || l.RoomsPerConnection < 0 || l.CloseAfter < -1 {
		report(l, "", "limits", "Negative limit", "Counts must not be negative (close_after = -1 never closes).")
	}
	for _, r := range []struct {
		attr string
		rate *Rate
	}{{"message_rate", l.MessageRate}, {"user_message_rate", l.UserMessageRate}, {"connect_rate", l.ConnectRate}} {
		if badRate(r.rate) {
			report(l, r.attr, "limits", "Invalid rate", rateHelp)
		}
	}
}

const rateHelp = "A rate needs a count of at least 1 per positive period, as in \"20/s\", and a burst that is not negative."

// badRate says whether a rate built in Go is unusable (parsed ones are fine).
func badRate(rt *Rate) bool {
	return rt != nil && (rt.Count < 1 || rt.Per <= 0 || rt.Burst < 0)
}

// tokenSourceProblem says what is wrong with a token source, or "".
func tokenSourceProblem(ts TokenSource) string {
	switch ts.Kind {
	case TokenQuery, TokenCookie:
		if ts.Name == "" {
			return fmt.Sprintf("%s needs a name, as in %q.", ts.Kind, ts.Kind+":token")
		}
	case TokenHeader:
		if !strings.EqualFold(ts.Name, "authorization") {
			return fmt.Sprintf("Only the Authorization header (a Bearer token) is read; write \"header:authorization\", not %q.", ts.Kind+":"+ts.Name)
		}
	case TokenSubprotocol, TokenFirstMessage:
		if ts.Name != "" {
			return fmt.Sprintf("%s takes no name; write %q.", ts.Kind, ts.Kind)
		}
	default:
		kinds := []string{TokenQuery, TokenCookie, TokenHeader, TokenSubprotocol, TokenFirstMessage}
		return fmt.Sprintf("%q is not a token source.%s", ts.Kind, suggest(ts.Kind, kinds))
	}
	return ""
}

func (c *Config) checkPluginRefs(report reporter, obj any, where string, names []string) {
	var declared []string
	for _, p := range c.Plugins {
		declared = append(declared, p.Name)
	}
	for i, name := range names {
		if !slices.Contains(declared, name) {
			report(obj, fmt.Sprintf("plugins[%d]", i), where, "Unknown plugin", fmt.Sprintf("There is no plugin %q.%s Declare it with a plugin %q { source = \"...\" } block, or fix the name.", name, suggest(name, declared), name))
		}
	}
}

func (c *Config) checkRoute(report reporter, r *Route, where string) {
	fields := map[string]bool{}
	for _, f := range r.Schema {
		c.checkField(report, r, f, fmt.Sprintf("%s field %q", where, f.Name), fields)
	}

	switch r.Action {
	case "":
		if r.Room != nil {
			report(r, "room", where, "room outside deliver", "A route's own room is the room a join or leave action acts on. For delivery, put room inside the deliver block.")
		}
		if r.Deliver == nil {
			report(r, "action", where, "Missing deliver block", `A route either delivers (deliver { to = "room" ... }) or acts (action = "join" or "leave"). To accept and discard a message, use deliver { to = "none" }.`)
		}
	case "join", "leave":
		if r.Room == nil {
			report(r, "action", where, "Missing room", fmt.Sprintf("A %s route needs the room to %s, as in room = msg.roomId.", r.Action, r.Action))
		} else {
			checkExpr(report, r, "room", where, r.Room)
		}
		if r.Deliver != nil {
			report(r.Deliver, "", where, "Both action and deliver", "A route either acts (join or leave) or delivers, not both: remove the deliver block or the action. The server itself tells the room about joins and leaves.")
		}
	default:
		report(r, "action", where, "Invalid action", oneOf(r.Action, actions)+" Remove action for a route that delivers.")
	}

	if badRate(r.Rate) {
		report(r, "rate", where, "Invalid rate", rateHelp)
	}
	if badRate(r.UserRate) {
		report(r, "user_rate", where, "Invalid rate", rateHelp)
	}

	if dl := r.Deliver; dl != nil && r.Action == "" {
		where += " deliver"
		switch dl.To {
		case ToRoom:
			if dl.Room == nil {
				report(dl, "to", where, "Missing room", "Delivery to a room needs the room, as in room = msg.roomId.")
			}
		case ToUser:
			if dl.User == nil {
				report(dl, "to", where, "Missing user", "Delivery to a user needs the user id, as in user = msg.to.")
			}
		case ToSender, ToBroadcast, ToNone:
		default:
			report(dl, "to", where, "Invalid delivery target", oneOf(dl.To, targets))
		}
		if dl.Room != nil {
			if dl.To != ToRoom && slices.Contains(targets, dl.To) {
				report(dl, "room", where, "room without to = \"room\"", fmt.Sprintf("This deliver block sends to %q, so room is not used; remove it or set to = \"room\".", dl.To))
			} else {
				checkExpr(report, dl, "room", where, dl.Room)
			}
		}
		if dl.User != nil {
			if dl.To != ToUser && slices.Contains(targets, dl.To) {
				report(dl, "user", where, "user without to = \"user\"", fmt.Sprintf("This deliver block sends to %q, so user is not used; remove it or set to = \"user\".", dl.To))
			} else {
				checkExpr(report, dl, "user", where, dl.User)
			}
		}
		// as = the route's own type was reported as a reserved route type.
		if slices.Contains(reservedTypes, dl.As) && dl.As != r.Type {
			report(dl, "as", where, "Reserved message type", fmt.Sprintf("Clients read %q messages as the server's own; choose another type for as.", dl.As))
		}
	}
}

func (c *Config) checkField(report reporter, r *Route, f *Field, where string, seen map[string]bool) {
	switch {
	case f.Name == "":
		report(f, "name", where, "Empty field name", `A field block is labelled with the name of a top-level field of the message, as in field "roomId" { ... }.`)
	case seen[f.Name]:
		report(f, "name", where, "Duplicate field", fmt.Sprintf("Field %q is declared twice in this schema%s; merge the two blocks.", f.Name, c.firstDeclared(r.field(f.Name))))
	}
	seen[f.Name] = true
	if !slices.Contains(fieldTypes, f.Type) {
		report(f, "type", where, "Invalid field type", oneOf(f.Type, fieldTypes))
		return // the constraints below depend on the type
	}
	only := func(attr, types string, set bool) {
		if set {
			report(f, attr, where, "Constraint does not apply", fmt.Sprintf("%s applies to %s, and this field is a %s; remove it or change the type.", attr, types, f.Type))
		}
	}
	lengths := f.Type == TypeString || f.Type == TypeArray
	only("min_length", "strings and arrays", !lengths && f.MinLength != nil)
	only("max_length", "strings and arrays", !lengths && f.MaxLength != nil)
	only("min", "numbers", f.Type != TypeNumber && f.Min != nil)
	only("max", "numbers", f.Type != TypeNumber && f.Max != nil)
	only("enum", "strings", f.Type != TypeString && f.Enum != nil)
	only("pattern", "strings", f.Type != TypeString && f.Pattern != nil)
	if lengths {
		switch {
		case f.MinLength != nil && *f.MinLength < 0, f.MaxLength != nil && *f.MaxLength < 0:
			report(f, "", where, "Negative length", "min_length and max_length must not be negative.")
		case f.MinLength != nil && f.MaxLength != nil && *f.MinLength > *f.MaxLength:
			report(f, "max_length", where, "min_length is greater than max_length", fmt.Sprintf("No value can be at least %d and at most %d long; swap or fix them.", *f.MinLength, *f.MaxLength))
		}
	}
	if f.Type == TypeNumber && f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		report(f, "max", where, "min is greater than max", fmt.Sprintf("No number is at least %g and at most %g; swap or fix them.", *f.Min, *f.Max))
	}
}

// checkExpr checks an Expr built in Go; compiled ones always pass.
func checkExpr(report reporter, obj any, attr, where string, e *Expr) {
	if len(e.Parts) == 0 {
		report(obj, attr, where, "Empty expression", "The value is an empty string. "+exprHelp)
		return
	}
	for _, p := range e.Parts {
		ok := false
		switch p.From {
		case FromLiteral:
			ok = p.Path == nil
		case FromMsg:
			ok = len(p.Path) == 1 && p.Path[0] != ""
		case FromUser:
			ok = slices.Equal(p.Path, []string{"id"}) || len(p.Path) == 2 && p.Path[0] == "claims" && p.Path[1] != ""
		}
		if !ok {
			report(obj, attr, where, "Invalid reference", fmt.Sprintf("Part %+v is not a literal, msg.<field>, user.id or user.claims.<name>.", p))
			return
		}
	}
}

// oneOf says that value is not one of allowed, suggesting the closest.
func oneOf(value string, allowed []string) string {
	return fmt.Sprintf("%q is not one of %s.%s", value, quoteList(allowed), suggest(value, allowed))
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// suggest returns ` Did you mean "x"?` for the closest name within a small
// edit distance (as hcl does for attribute names), or "".
func suggest(given string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(given, n) || levenshtein.Distance(given, n, nil) < 3 {
			return fmt.Sprintf(" Did you mean %q?", n)
		}
	}
	return ""
}
