package sdk

import (
	"strconv"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

// Message is one client message on its way through a route. Everything it
// returns points into the input buffer: valid until the handler returns.
type Message struct {
	in      abi.Message
	scratch []byte // unescaped strings of this call
}

func (m *Message) reset(in abi.Message) {
	m.in = in
	m.scratch = m.scratch[:0]
}

// Envelope is the message's JSON envelope: the client's, or the previous
// plugin's transformed one.
func (m *Message) Envelope() []byte { return m.in.Envelope }

// Route is the route's message type.
func (m *Message) Route() string { return str(m.in.Route) }

// UserID is the sender's user id.
func (m *Message) UserID() string { return str(m.in.UserID) }

// ConnID identifies the sender's connection.
func (m *Message) ConnID() string { return str(m.in.ConnID) }

// RemoteAddr is the sender's network address.
func (m *Message) RemoteAddr() string { return str(m.in.RemoteAddr) }

// Claims is the sender's claims as a JSON object (empty when there are none).
func (m *Message) Claims() []byte { return m.in.Claims }

// Claim returns the string claim name of the sender.
func (m *Message) Claim(name string) (string, bool) {
	return m.stringAt(lookup(m.in.Claims, name))
}

// ClaimStrings returns the claim name of the sender as a list of strings:
// a JSON array's string elements (others are skipped), or a lone string as
// a list of one, such as a "roles" claim. ok is false when the claim is
// missing or neither. The strings are valid until the handler returns.
func (m *Message) ClaimStrings(name string) (list []string, ok bool) {
	raw, found := lookup(m.in.Claims, name)
	if !found || len(raw) == 0 {
		return nil, false
	}
	switch raw[0] {
	case '"':
		s, ok := m.stringAt(raw, true)
		if !ok {
			return nil, false
		}
		return []string{s}, true
	case '[':
		list = []string{}
		eachElement(raw, func(e []byte) {
			if s, ok := m.stringAt(e, true); ok {
				list = append(list, s)
			}
		})
		return list, true
	}
	return nil, false
}

// Raw returns the raw JSON of the field at path (top-level field names,
// then names inside nested objects), or nil when there is none.
func (m *Message) Raw(path ...string) []byte {
	v := m.in.Envelope
	for _, name := range path {
		var ok bool
		if v, ok = lookup(v, name); !ok {
			return nil
		}
	}
	return v
}

// String returns the string field at path. ok is false when it is missing
// or not a string.
func (m *Message) String(path ...string) (s string, ok bool) {
	return m.stringAt(m.Raw(path...), true)
}

func (m *Message) stringAt(raw []byte, found bool) (string, bool) {
	if !found || len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' {
			start := len(m.scratch)
			var ok bool
			if m.scratch, ok = unescape(m.scratch, body); !ok {
				m.scratch = m.scratch[:start]
				return "", false
			}
			return str(m.scratch[start:]), true
		}
	}
	return str(body), true
}

// Number returns the number field at path.
func (m *Message) Number(path ...string) (float64, bool) {
	raw := m.Raw(path...)
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(str(raw), 64)
	return f, err == nil
}

// Bool returns the boolean field at path.
func (m *Message) Bool(path ...string) (v, ok bool) {
	switch str(m.Raw(path...)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Connect is a connection being upgraded (the connect phase).
type Connect struct {
	req []byte // abi.ConnectRequest as JSON
}

func (c *Connect) field(path ...string) string {
	v := c.req
	for _, name := range path {
		var ok bool
		if v, ok = lookup(v, name); !ok {
			return ""
		}
	}
	return c.unquote(v)
}

func (c *Connect) unquote(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	b, ok := unescape(nil, raw[1:len(raw)-1])
	if !ok {
		return ""
	}
	return string(b)
}

// Method is the HTTP method of the upgrade request.
func (c *Connect) Method() string { return c.field("method") }

// Path is the request path.
func (c *Connect) Path() string { return c.field("path") }

// RemoteAddr is the client's network address.
func (c *Connect) RemoteAddr() string { return c.field("remoteAddr") }

// Header returns the first value of the request header name.
func (c *Connect) Header(name string) string { return c.first("headers", canonicalHeader(name)) }

// Query returns the first value of the query parameter name.
func (c *Connect) Query(name string) string { return c.first("query", name) }

// Cookie returns the value of the cookie name.
func (c *Connect) Cookie(name string) string { return c.field("cookies", name) }

// Subprotocols are the WebSocket subprotocols the client offered.
func (c *Connect) Subprotocols() []string {
	arr, _ := lookup(c.req, "subprotocols")
	var out []string
	eachElement(arr, func(v []byte) { out = append(out, c.unquote(v)) })
	return out
}

func (c *Connect) first(obj, name string) string {
	o, _ := lookup(c.req, obj)
	list, _ := lookup(o, name)
	var s string
	done := false
	eachElement(list, func(v []byte) {
		if !done {
			s, done = c.unquote(v), true
		}
	})
	return s
}

// canonicalHeader is net/http's CanonicalHeaderKey for ASCII names, kept
// here so guests need not link net/http.
func canonicalHeader(s string) string {
	b := []byte(s)
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}
