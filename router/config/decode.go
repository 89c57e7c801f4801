package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// rangeKey names one attribute of one decoded object (a *Route, a *Field,
// ...), so checks that run on the typed Config can point at its source.
type rangeKey struct {
	obj  any
	attr string // "" for the block itself
}

// decoder walks the HCL body into a Config. Value errors (a bad duration, a
// wrong type) are reported here; rules about the decoded values live in
// check.go, shared with Config.Check.
type decoder struct {
	ctx    *hcl.EvalContext
	dir    string
	diags  hcl.Diagnostics
	ranges map[rangeKey]hcl.Range
	failed map[rangeKey]bool // attributes already reported: checks skip them

	src      []byte // the config's source, for string literals as written (literal.go)
	filename string
}

var (
	rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "server"},
		{Type: "auth"},
		{Type: "limits"},
		{Type: "metrics"},
		{Type: "plugin", LabelNames: []string{"name"}},
		{Type: "route", LabelNames: []string{"type"}},
		{Type: "test", LabelNames: []string{"name"}},
	}}
	serverSchema = &hcl.BodySchema{
		Attributes: attrs("listen", "path", "max_payload", "allowed_origins", "trusted_proxies", "handshake_timeout", "send_queue", "send_timeout", "write_delay", "max_header_bytes"),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "heartbeat"}, {Type: "tls"}},
	}
	metricsSchema = &hcl.BodySchema{Attributes: attrs("listen", "path")}
	tlsSchema     = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "cert_file", Required: true}, {Name: "key_file", Required: true}}}
	limitsSchema  = &hcl.BodySchema{Attributes: attrs("message_rate", "message_burst", "user_message_rate", "user_message_burst",
		"connect_rate", "connect_burst", "connections_per_user", "rooms_per_connection", "close_after")}
	heartbeatSchema = &hcl.BodySchema{Attributes: attrs("interval", "timeout")}
	authSchema      = &hcl.BodySchema{
		Attributes: attrs("token_from", "reject_with", "plugins", "first_message_timeout", "on_expiry"),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "jwt"}},
	}
	jwtSchema    = &hcl.BodySchema{Attributes: attrs("algorithms", "secret", "public_key", "jwks_file", "jwks_url", "jwks_refresh", "issuer", "audience", "leeway", "require_exp")}
	pluginSchema = &hcl.BodySchema{
		Attributes: attrs("source", "native", "config", "timeout", "memory", "pool", "on_error"),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "breaker"}},
	}
	breakerSchema = &hcl.BodySchema{Attributes: attrs("failures", "window", "users", "cooldown")}
	routeSchema   = &hcl.BodySchema{
		Attributes: attrs("action", "room", "rate", "burst", "user_rate", "user_burst", "plugins", "transform_fields"),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "schema"}, {Type: "deliver"}},
	}
	schemaSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "field", LabelNames: []string{"name"}}}}
	fieldSchema  = &hcl.BodySchema{Attributes: append(attrs("required", "min_length", "max_length", "min", "max", "enum", "pattern"),
		hcl.AttributeSchema{Name: "type", Required: true})}
	deliverSchema = &hcl.BodySchema{Attributes: append(attrs("room", "user", "exclude_sender", "as", "require_member"),
		hcl.AttributeSchema{Name: "to", Required: true})}
	testSchema = &hcl.BodySchema{
		Attributes: append(attrs("user", "claims"), hcl.AttributeSchema{Name: "send", Required: true}),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "expect"}},
	}
	expectSchema = &hcl.BodySchema{Attributes: attrs("verdict", "code", "to", "room", "user", "fields")}
)

func attrs(names ...string) []hcl.AttributeSchema {
	s := make([]hcl.AttributeSchema, len(names))
	for i, n := range names {
		s[i] = hcl.AttributeSchema{Name: n}
	}
	return s
}

// content decodes a body against its schema; hcl reports unknown
// attributes and blocks, with "did you mean" suggestions.
func (d *decoder) content(obj any, body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(schema)
	d.diags = append(d.diags, diags...)
	for _, a := range schema.Attributes {
		if a.Required && c.Attributes[a.Name] == nil {
			d.failed[rangeKey{obj, a.Name}] = true // hcl said it is missing
		}
	}
	return c
}

// single returns the first block of a type and reports any others.
func (d *decoder) single(blocks hcl.Blocks, where string) *hcl.Block {
	for _, b := range blocks[min(1, len(blocks)):] {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate " + b.Type + " block",
			Detail:   fmt.Sprintf("%s may have only one %s block; the first is at %s. Merge them into one.", where, b.Type, blocks[0].DefRange),
			Subject:  b.DefRange.Ptr(),
		})
	}
	if len(blocks) == 0 {
		return nil
	}
	return blocks[0]
}

func (d *decoder) block(obj any, b *hcl.Block) {
	d.ranges[rangeKey{obj, ""}] = b.DefRange
	if len(b.LabelRanges) > 0 {
		d.ranges[rangeKey{obj, "name"}] = b.LabelRanges[0]
	}
}

func (d *decoder) config(body hcl.Body) *Config {
	c := &Config{}
	content := d.content(nil, body, rootSchema)
	byType := content.Blocks.ByType()
	if b := d.single(byType["server"], "A config"); b != nil {
		d.server(&c.Server, b)
	}
	if b := d.single(byType["auth"], "A config"); b != nil {
		d.auth(&c.Auth, b)
	}
	if b := d.single(byType["limits"], "A config"); b != nil {
		d.limits(&c.Limits, b)
	}
	if b := d.single(byType["metrics"], "A config"); b != nil {
		m := &c.Metrics
		m.Enabled = true
		d.block(m, b)
		mc := d.content(m, b.Body, metricsSchema)
		d.str(mc, m, "listen", &m.Listen)
		d.str(mc, m, "path", &m.Path)
	}
	for _, b := range byType["plugin"] {
		c.Plugins = append(c.Plugins, d.plugin(b))
	}
	for _, b := range byType["route"] {
		c.Routes = append(c.Routes, d.route(b))
	}
	for _, b := range byType["test"] {
		c.Tests = append(c.Tests, d.test(b))
	}
	return c
}

func (d *decoder) server(s *Server, b *hcl.Block) {
	d.block(s, b)
	c := d.content(s, b.Body, serverSchema)
	d.str(c, s, "listen", &s.Listen)
	d.str(c, s, "path", &s.Path)
	d.size(c, s, "max_payload", &s.MaxPayload)
	if d.strs(c, s, "allowed_origins", &s.AllowedOrigins) {
		// Point at the entry itself when allowed_origins is a list literal.
		exprs, diags := hcl.ExprList(c.Attributes["allowed_origins"].Expr)
		for i, e := range exprs {
			if !diags.HasErrors() && len(exprs) == len(s.AllowedOrigins) {
				d.ranges[rangeKey{s, fmt.Sprintf("allowed_origins[%d]", i)}] = e.Range()
			}
		}
	}
	var proxies []string
	if d.strs(c, s, "trusted_proxies", &proxies) {
		for _, p := range proxies {
			prefix, err := parsePrefix(p)
			if err != nil {
				d.errorf(s, "trusted_proxies", "Invalid proxy address", fmt.Sprintf("%q is neither an IP address nor a CIDR range such as \"10.0.0.0/8\".", p))
				break
			}
			s.TrustedProxies = append(s.TrustedProxies, prefix)
		}
	}
	d.duration(c, s, "handshake_timeout", &s.HandshakeTimeout, true)
	d.sendQueue(c, s)
	d.duration(c, s, "send_timeout", &s.SendTimeout, true)
	d.duration(c, s, "write_delay", &s.WriteDelay, false)
	if _, set := c.Attributes["write_delay"]; set && s.WriteDelay == 0 {
		s.WriteDelay = -1 // "0s" writes at once; zero would mean the default
	}
	d.size(c, s, "max_header_bytes", &s.MaxHeaderBytes)
	byType := c.Blocks.ByType()
	if tb := d.single(byType["tls"], "The server block"); tb != nil {
		t := &TLS{}
		s.TLS = t
		d.block(t, tb)
		tc := d.content(t, tb.Body, tlsSchema)
		d.path(tc, t, "cert_file", &t.CertFile)
		d.path(tc, t, "key_file", &t.KeyFile)
	}
	if hb := d.single(byType["heartbeat"], "The server block"); hb != nil {
		h := &s.Heartbeat
		d.block(h, hb)
		hc := d.content(h, hb.Body, heartbeatSchema)
		d.duration(hc, h, "interval", &h.Interval, true)
		d.duration(hc, h, "timeout", &h.Timeout, true)
	}
}

func (d *decoder) auth(a *Auth, b *hcl.Block) {
	a.Enabled = true
	d.block(a, b)
	c := d.content(a, b.Body, authSchema)
	var from []string
	if d.strs(c, a, "token_from", &from) {
		a.TokenFrom = make([]TokenSource, len(from))
		for i, s := range from {
			// Kept as written; check.go says what is wrong with an entry.
			kind, name, _ := strings.Cut(s, ":")
			a.TokenFrom[i] = TokenSource{Kind: kind, Name: name}
		}
		// Point at the entry itself when token_from is a list literal.
		exprs, diags := hcl.ExprList(c.Attributes["token_from"].Expr)
		for i, e := range exprs {
			if !diags.HasErrors() && len(exprs) == len(from) {
				d.ranges[rangeKey{a, fmt.Sprintf("token_from[%d]", i)}] = e.Range()
			}
		}
	}
	d.str(c, a, "reject_with", &a.RejectWith)
	d.duration(c, a, "first_message_timeout", &a.FirstMessageTimeout, true)
	d.str(c, a, "on_expiry", &a.OnExpiry)
	if attr := c.Attributes["plugins"]; attr != nil {
		d.ranges[rangeKey{a, "plugins"}] = attr.Expr.Range()
		a.Plugins = d.pluginRefs(attr, a)
	}
	if jb := d.single(c.Blocks, "The auth block"); jb != nil {
		j := &JWT{}
		a.JWT = j
		d.block(j, jb)
		jc := d.content(j, jb.Body, jwtSchema)
		d.strs(jc, j, "algorithms", &j.Algorithms)
		d.str(jc, j, "secret", &j.Secret)
		d.str(jc, j, "public_key", &j.PublicKey)
		d.path(jc, j, "jwks_file", &j.JWKSFile)
		d.str(jc, j, "jwks_url", &j.JWKSURL)
		d.duration(jc, j, "jwks_refresh", &j.JWKSRefresh, true)
		d.str(jc, j, "issuer", &j.Issuer)
		d.str(jc, j, "audience", &j.Audience)
		d.duration(jc, j, "leeway", &j.Leeway, false)
		requireExp := true
		d.boolean(jc, j, "require_exp", &requireExp)
		j.ExpOptional = !requireExp
	}
}

// path decodes a file path, resolved against the config file's directory.
func (d *decoder) path(c *hcl.BodyContent, obj any, name string, dst *string) {
	if d.str(c, obj, name, dst) && *dst != "" && !filepath.IsAbs(*dst) {
		*dst = filepath.Join(d.dir, *dst)
	}
}

// rate decodes a rate such as "20/s" and the burst attribute beside it.
func (d *decoder) rate(c *hcl.BodyContent, obj any, name, burstName string) *Rate {
	var r *Rate
	var s string
	if d.str(c, obj, name, &s) {
		rate, err := parseRate(s)
		if err != nil {
			d.errorf(obj, name, "Invalid rate", err.Error())
		}
		r = rate
	}
	var burst int
	if d.integer(c, obj, burstName, &burst, 1) {
		switch {
		case r != nil:
			r.Burst = burst
		case c.Attributes[name] == nil:
			d.errorf(obj, burstName, "Burst without rate", fmt.Sprintf(`%s sets how many messages may come at once above the rate; add a rate such as %s = "20/s", or remove %s.`, burstName, name, burstName))
		}
	}
	return r
}

func (d *decoder) limits(l *Limits, b *hcl.Block) {
	d.block(l, b)
	c := d.content(l, b.Body, limitsSchema)
	l.MessageRate = d.rate(c, l, "message_rate", "message_burst")
	l.UserMessageRate = d.rate(c, l, "user_message_rate", "user_message_burst")
	l.ConnectRate = d.rate(c, l, "connect_rate", "connect_burst")
	d.integer(c, l, "connections_per_user", &l.ConnectionsPerUser, 1)
	d.integer(c, l, "rooms_per_connection", &l.RoomsPerConnection, 1)
	// -1 never closes; 0 would silently mean the default (10).
	if v, ok := d.value(c, l, "close_after", cty.Number); ok {
		if n, whole := wholeNumber(v); whole && (n >= 1 || n == -1) {
			l.CloseAfter = n
		} else {
			d.errorf(l, "close_after", "Invalid value", "close_after must be a whole number of at least 1, or -1 to never close.")
		}
	}
}

func (d *decoder) plugin(b *hcl.Block) *Plugin {
	p := &Plugin{Name: b.Labels[0], Range: b.DefRange}
	d.block(p, b)
	c := d.content(p, b.Body, pluginSchema)
	d.path(c, p, "source", &p.Source)
	p.SourceRange = d.ranges[rangeKey{p, "source"}]
	d.recordBlock(p, b)
	d.boolean(c, p, "native", &p.Native)
	d.object(c, p, "config", &p.Config)
	d.duration(c, p, "timeout", &p.Timeout, true)
	d.size(c, p, "memory", &p.Memory)
	d.integer(c, p, "pool", &p.Pool, 0)
	d.str(c, p, "on_error", &p.OnError)
	if bb := d.single(c.Blocks.ByType()["breaker"], fmt.Sprintf("Plugin %q", p.Name)); bb != nil {
		br := &p.Breaker
		d.block(br, bb)
		bc := d.content(br, bb.Body, breakerSchema)
		if d.integer(bc, br, "failures", &br.Failures, -1) && br.Failures == 0 {
			d.errorf(br, "failures", "Invalid value", "failures is how many failed calls among the last window calls open the breaker: at least 1, or -1 to turn the breaker off.")
		}
		if w := 0; d.integer(bc, br, "window", &w, 1) {
			if w > MaxBreakerWindow {
				d.errorf(br, "window", "Invalid value", fmt.Sprintf("window is how many recent calls the breaker looks at: at most %d.", MaxBreakerWindow))
			} else {
				br.Window = w
			}
		}
		d.integer(bc, br, "users", &br.Users, 1)
		d.duration(bc, br, "cooldown", &br.Cooldown, true)
	}
	return p
}

func (d *decoder) route(b *hcl.Block) *Route {
	r := &Route{Type: b.Labels[0], Range: b.DefRange}
	d.block(r, b)
	c := d.content(r, b.Body, routeSchema)
	d.str(c, r, "action", &r.Action)
	r.Room = d.expr(c, r, "room")
	r.Rate = d.rate(c, r, "rate", "burst")
	r.UserRate = d.rate(c, r, "user_rate", "user_burst")
	if attr := c.Attributes["plugins"]; attr != nil {
		d.ranges[rangeKey{r, "plugins"}] = attr.Expr.Range()
		r.Plugins = d.pluginRefs(attr, r)
	}
	byType := c.Blocks.ByType()
	if sb := d.single(byType["schema"], "A route"); sb != nil {
		r.Schema = []*Field{}
		sc := d.content(r, sb.Body, schemaSchema)
		for _, fb := range sc.Blocks {
			r.Schema = append(r.Schema, d.field(fb))
		}
	}
	if db := d.single(byType["deliver"], "A route"); db != nil {
		r.Deliver = d.deliver(db)
	}
	d.strs(c, r, "transform_fields", &r.TransformFields)
	return r
}

func (d *decoder) field(b *hcl.Block) *Field {
	f := &Field{Name: b.Labels[0]}
	d.block(f, b)
	c := d.content(f, b.Body, fieldSchema)
	d.str(c, f, "type", &f.Type)
	d.boolean(c, f, "required", &f.Required)
	f.MinLength = d.optInt(c, f, "min_length")
	f.MaxLength = d.optInt(c, f, "max_length")
	f.Min, f.MinExact = d.optFloat(c, f, "min")
	f.Max, f.MaxExact = d.optFloat(c, f, "max")
	d.strs(c, f, "enum", &f.Enum)
	var pattern string
	if d.str(c, f, "pattern", &pattern) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			d.errorf(f, "pattern", "Invalid pattern", fmt.Sprintf("%v. The pattern is Go regexp syntax (RE2); in an HCL string a backslash is written twice, as in \"^\\\\d+$\".", err))
		}
		f.Pattern = re
	}
	return f
}

func (d *decoder) deliver(b *hcl.Block) *Deliver {
	dl := &Deliver{RequireMember: true}
	d.block(dl, b)
	c := d.content(dl, b.Body, deliverSchema)
	d.str(c, dl, "to", &dl.To)
	dl.Room = d.expr(c, dl, "room")
	dl.User = d.expr(c, dl, "user")
	d.boolean(c, dl, "exclude_sender", &dl.ExcludeSender)
	d.str(c, dl, "as", &dl.As)
	d.boolean(c, dl, "require_member", &dl.RequireMember)
	return dl
}

func (d *decoder) test(b *hcl.Block) *Test {
	t := &Test{Name: b.Labels[0], Range: b.DefRange}
	d.block(t, b)
	c := d.content(t, b.Body, testSchema)
	d.str(c, t, "user", &t.User)
	d.object(c, t, "claims", &t.Claims)
	t.SendJSON = d.object(c, t, "send", &t.Send)
	if eb := d.single(c.Blocks, "A test"); eb != nil {
		e := &t.Expect
		d.block(e, eb)
		ec := d.content(e, eb.Body, expectSchema)
		d.str(ec, e, "verdict", &e.Verdict)
		d.str(ec, e, "code", &e.Code)
		d.str(ec, e, "to", &e.To)
		d.str(ec, e, "room", &e.Room)
		d.str(ec, e, "user", &e.User)
		d.object(ec, e, "fields", &e.Fields)
	}
	return t
}

// expr compiles an expression attribute such as room = msg.roomId.
func (d *decoder) expr(c *hcl.BodyContent, obj any, name string) *Expr {
	attr := c.Attributes[name]
	if attr == nil {
		return nil
	}
	d.ranges[rangeKey{obj, name}] = attr.Expr.Range()
	e, ok := d.compileExpr(attr)
	if !ok {
		// A placeholder, so that checks see the attribute as present
		// and do not add "missing room" to the error just reported.
		d.failed[rangeKey{obj, name}] = true
		e = &Expr{Range: attr.Expr.Range()}
	}
	d.msgRefRanges(obj, name, attr.Expr)
	return e
}

// errorf reports a problem with an attribute whose range was recorded.
func (d *decoder) errorf(obj any, attr, summary, detail string) {
	rng := d.ranges[rangeKey{obj, attr}]
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  rng.Ptr(),
	})
	d.failed[rangeKey{obj, attr}] = true
}

func (d *decoder) fail(obj any, attr string, diags hcl.Diagnostics) {
	d.diags = append(d.diags, diags...)
	d.failed[rangeKey{obj, attr}] = true
}

// value evaluates an attribute converted to typ; ok is false when it is
// absent or was reported.
func (d *decoder) value(c *hcl.BodyContent, obj any, name string, typ cty.Type) (cty.Value, bool) {
	attr := c.Attributes[name]
	if attr == nil {
		return cty.NilVal, false
	}
	d.ranges[rangeKey{obj, name}] = attr.Expr.Range()
	v, diags := attr.Expr.Value(d.ctx)
	if diags.HasErrors() {
		d.fail(obj, name, diags)
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.errorf(obj, name, "Invalid value", fmt.Sprintf("%s must not be null; remove the attribute to use its default.", name))
		return cty.NilVal, false
	}
	if typ == cty.DynamicPseudoType {
		return v, true
	}
	cv, err := convert.Convert(v, typ)
	if err == nil && !cv.IsWhollyKnown() {
		err = fmt.Errorf("the value is not known when the config loads")
	}
	if err == nil && typ.IsListType() {
		for it := cv.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.IsNull() {
				err = fmt.Errorf("the list must not contain null")
			}
		}
	}
	if err != nil {
		d.errorf(obj, name, "Invalid value", fmt.Sprintf("%s must be %s.", name, typeNames[typ.FriendlyName()]))
		return cty.NilVal, false
	}
	cv, _ = cv.UnmarkDeep()
	return cv, true
}

// typeNames say what a value must be, for each type attributes convert to.
var typeNames = map[string]string{
	cty.String.FriendlyName():           "a string",
	cty.Number.FriendlyName():           "a number",
	cty.Bool.FriendlyName():             "true or false",
	cty.List(cty.String).FriendlyName(): `a list of strings, such as ["a", "b"]`,
}

func (d *decoder) str(c *hcl.BodyContent, obj any, name string, dst *string) bool {
	v, ok := d.value(c, obj, name, cty.String)
	if ok {
		*dst = v.AsString()
		if raw, isRaw := d.rawString(c.Attributes[name].Expr); isRaw {
			*dst = raw
		}
	}
	return ok
}

func (d *decoder) strs(c *hcl.BodyContent, obj any, name string, dst *[]string) bool {
	v, ok := d.value(c, obj, name, cty.List(cty.String))
	if !ok {
		return false
	}
	*dst = []string{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		*dst = append(*dst, e.AsString())
	}
	if t, isTuple := c.Attributes[name].Expr.(*hclsyntax.TupleConsExpr); isTuple && len(t.Exprs) == len(*dst) {
		for i, e := range t.Exprs {
			if raw, isRaw := d.rawString(e); isRaw {
				(*dst)[i] = raw
			}
		}
	}
	return true
}

func (d *decoder) boolean(c *hcl.BodyContent, obj any, name string, dst *bool) {
	if v, ok := d.value(c, obj, name, cty.Bool); ok {
		*dst = v.True()
	}
}

// integer decodes a whole number of at least least.
func (d *decoder) integer(c *hcl.BodyContent, obj any, name string, dst *int, least int) bool {
	v, ok := d.value(c, obj, name, cty.Number)
	if !ok {
		return false
	}
	n, ok := wholeNumber(v)
	if !ok || n < least {
		d.errorf(obj, name, "Invalid value", fmt.Sprintf("%s must be a whole number of at least %d.", name, least))
		return false
	}
	*dst = n
	return true
}

func (d *decoder) optInt(c *hcl.BodyContent, obj any, name string) *int {
	var n int
	if d.integer(c, obj, name, &n, 0) {
		return &n
	}
	return nil
}

// optFloat decodes a number, rounded and as exact decimal text (HCL keeps
// 512 bits, enough for any literal of up to 150 digits).
func (d *decoder) optFloat(c *hcl.BodyContent, obj any, name string) (*float64, string) {
	v, ok := d.value(c, obj, name, cty.Number)
	if !ok {
		return nil, ""
	}
	f, err := goValue(v)
	if err != nil {
		d.errorf(obj, name, "Invalid value", err.Error()+".")
		return nil, ""
	}
	n := f.(float64)
	bf := v.AsBigFloat()
	if bf.IsInt() && bf.MantExp(nil) < 100 {
		return &n, bf.Text('f', 0) // "9007199254740993", not "9.007199254740993e+15"
	}
	return &n, bf.Text('g', -1)
}

// duration decodes a Go duration string; positive rejects "0s", which would
// otherwise silently mean the default.
func (d *decoder) duration(c *hcl.BodyContent, obj any, name string, dst *time.Duration, positive bool) {
	v, ok := d.value(c, obj, name, cty.String)
	if !ok {
		return
	}
	dur, err := parseDuration(v.AsString())
	switch {
	case err != nil:
		d.errorf(obj, name, "Invalid duration", err.Error())
	case dur < 0 || positive && dur == 0:
		d.errorf(obj, name, "Invalid duration", fmt.Sprintf("%s must be more than zero; remove the attribute to use its default.", name))
	default:
		*dst = dur
	}
}

// parsePrefix reads "10.0.0.0/8", "fd00::/8" or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errors.New("not an address")
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// size decodes "64KiB", "1MB", "512B" or a number of bytes.
func (d *decoder) size(c *hcl.BodyContent, obj any, name string, dst *int) {
	v, ok := d.value(c, obj, name, cty.String)
	if !ok {
		return
	}
	n, err := parseSize(v.AsString())
	switch {
	case err != nil:
		d.errorf(obj, name, "Invalid size", err.Error())
	case n == 0:
		d.errorf(obj, name, "Invalid size", fmt.Sprintf("%s must be at least 1 byte; remove the attribute to use its default.", name))
	default:
		*dst = n
	}
}

// sendQueue decodes server.send_queue, a size. It used to be a number of
// frames: a bare number is refused rather than read as bytes, which would
// turn the old default of 256 frames into a 256-byte queue.
func (d *decoder) sendQueue(c *hcl.BodyContent, s *Server) {
	v, ok := d.value(c, s, "send_queue", cty.DynamicPseudoType)
	switch {
	case !ok:
	case v.Type() == cty.Number:
		d.errorf(s, "send_queue", "Invalid size", `send_queue is a size in bytes, no longer a number of frames; write a size such as send_queue = "1MiB" (the default), or remove the attribute.`)
	default:
		d.size(c, s, "send_queue", &s.SendQueue)
	}
}

// object decodes an HCL object into JSON-compatible Go values, and
// returns its JSON as a client would write it (see appendJSON).
func (d *decoder) object(c *hcl.BodyContent, obj any, name string, dst *map[string]any) []byte {
	v, ok := d.value(c, obj, name, cty.DynamicPseudoType)
	if !ok {
		return nil
	}
	if t := v.Type(); !t.IsObjectType() && !t.IsMapType() {
		d.errorf(obj, name, "Invalid value", fmt.Sprintf("%s must be an object, such as { key = \"value\" }, not %s.", name, t.FriendlyName()))
		return nil
	}
	g, err := goValue(v)
	if err != nil {
		d.errorf(obj, name, "Invalid value", fmt.Sprintf("%s: %v.", name, err))
		return nil
	}
	*dst = g.(map[string]any)
	b, diags := d.appendJSON(nil, c.Attributes[name].Expr)
	var m map[string]any
	if diags.HasErrors() || json.Unmarshal(b, &m) != nil {
		b, _ = json.Marshal(g)
		return b
	}
	*dst = m // strings as written
	return b
}
