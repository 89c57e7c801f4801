package router

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/switchboard-rt/switchboard/router/config"
)

// Stable error codes sent to clients in {"type":"error","code":...}.
const (
	CodeBadJSON        = "bad_json"          // the text frame is not a JSON object
	CodeMissingType    = "missing_type"      // no "type" string
	CodeUnknownType    = "unknown_type"      // no route for this type
	CodeInvalidField   = "invalid_field"     // schema check failed
	CodeBadID          = "bad_id"            // "id" is not a short string or a number
	CodeBinary         = "binary_refused"    // binary frames have no route
	CodeRateLimited    = "rate_limited"      // the route's or connection's rate was exceeded
	CodeForbidden      = "forbidden"         // e.g. joining a reserved room
	CodeNotMember      = "not_member"        // sending to a room the sender has not joined
	CodeMissingTarget  = "missing_target"    // the room or user expression gave ""
	CodePluginError    = "plugin_error"      // a plugin failed and on_error = "reject"
	CodeTooManyReroute = "reroute_loop"      // reroutes past the hop limit
	CodeBadPayload     = "bad_plugin_output" // a plugin's transform is not a JSON object
)

// maxIDLength bounds a client's correlation id: it is echoed back, so it
// must not become a way to make the server write large frames.
const maxIDLength = 128

var parserPool fastjson.ParserPool

// envelope is an incoming message after parsing. It borrows the parser's
// memory: it is valid until release.
type envelope struct {
	parser *fastjson.Parser
	obj    *fastjson.Object
	typ    string
	id     []byte // raw JSON of "id" (a string or a number), nil when absent
}

// checkUTF8 refuses input that is not UTF-8. Text frames are checked by
// gws (close 1007) before they reach parseEnvelope; messages that come
// from elsewhere (Publish, Evaluate) are checked with this.
func checkUTF8(data []byte) *Error {
	if !utf8.Valid(data) {
		return &Error{Code: CodeBadJSON, Message: "message is not valid UTF-8"}
	}
	return nil
}

// parseEnvelope parses a text frame. On failure it returns an error code
// and a message for the client.
func parseEnvelope(data []byte, env *envelope) *Error {
	p := parserPool.Get()
	v, err := p.ParseBytes(data)
	if err != nil {
		parserPool.Put(p)
		return &Error{Code: CodeBadJSON, Message: "message is not valid JSON: " + parseErrorText(err)}
	}
	// fastjson is lenient about control characters inside strings, and
	// values are relayed verbatim to other clients, whose JSON.parse would
	// choke on them: the strict standard check keeps bad bytes out.
	if !json.Valid(data) {
		parserPool.Put(p)
		return &Error{Code: CodeBadJSON, Message: "message is not valid JSON: control character or bad escape in a string"}
	}
	obj, err := v.Object()
	if err != nil {
		parserPool.Put(p)
		return &Error{Code: CodeBadJSON, Message: "message must be a JSON object"}
	}
	env.parser, env.obj = p, obj
	if idv := obj.Get("id"); idv != nil {
		switch idv.Type() {
		case fastjson.TypeString:
			if s, _ := idv.StringBytes(); len(s) <= maxIDLength {
				env.id = idv.MarshalTo(nil)
			}
		case fastjson.TypeNumber:
			env.id = idv.MarshalTo(nil)
		}
		if env.id == nil {
			env.release()
			return &Error{Code: CodeBadID, Message: "id must be a string of at most 128 bytes or a number"}
		}
	}
	tv := obj.Get("type")
	if tv == nil || tv.Type() != fastjson.TypeString {
		return &Error{Code: CodeMissingType, Message: `message needs a "type" string`}
	}
	t, _ := tv.StringBytes()
	if len(t) == 0 {
		return &Error{Code: CodeMissingType, Message: `message needs a non-empty "type" string`}
	}
	env.typ = string(t)
	return nil
}

func (e *envelope) release() {
	if e.parser != nil {
		parserPool.Put(e.parser)
	}
	*e = envelope{}
}

// field returns the string value of a top-level field, or "" when it is
// absent or not a string.
func (e *envelope) field(name string) string {
	if e.obj == nil {
		return ""
	}
	v := e.obj.Get(name)
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	b, _ := v.StringBytes()
	return string(b)
}

// checkSchema validates the envelope against a route's fields.
func checkSchema(obj *fastjson.Object, fields []*config.Field) *Error {
	for _, f := range fields {
		v := obj.Get(f.Name)
		if v == nil || v.Type() == fastjson.TypeNull {
			if f.Required {
				return invalidField(f.Name, "is required")
			}
			continue
		}
		if msg := checkField(v, f); msg != "" {
			return invalidField(f.Name, msg)
		}
	}
	return nil
}

func invalidField(name, problem string) *Error {
	return &Error{Code: CodeInvalidField, Message: strconv.Quote(name) + " " + problem, Field: name}
}

func checkField(v *fastjson.Value, f *config.Field) string {
	switch f.Type {
	case config.TypeString:
		if v.Type() != fastjson.TypeString {
			return "must be a string"
		}
		b, _ := v.StringBytes()
		if !utf8.Valid(b) {
			return "must be valid UTF-8"
		}
		n := utf8.RuneCount(b)
		if f.MinLength != nil && n < *f.MinLength {
			return "must be at least " + plural(*f.MinLength, "character")
		}
		if f.MaxLength != nil && n > *f.MaxLength {
			return "must be at most " + plural(*f.MaxLength, "character")
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, string(b)) {
			return "must be one of the allowed values"
		}
		if f.Pattern != nil && !f.Pattern.Match(b) {
			return "does not match the required pattern"
		}
	case config.TypeNumber:
		if v.Type() != fastjson.TypeNumber {
			return "must be a number"
		}
		x, _ := v.Float64()
		if f.Min != nil && x < *f.Min {
			return "must be at least " + strconv.FormatFloat(*f.Min, 'g', -1, 64)
		}
		if f.Max != nil && x > *f.Max {
			return "must be at most " + strconv.FormatFloat(*f.Max, 'g', -1, 64)
		}
	case config.TypeBool:
		if t := v.Type(); t != fastjson.TypeTrue && t != fastjson.TypeFalse {
			return "must be true or false"
		}
	case config.TypeObject:
		if v.Type() != fastjson.TypeObject {
			return "must be an object"
		}
	case config.TypeArray:
		if v.Type() != fastjson.TypeArray {
			return "must be an array"
		}
		a, _ := v.Array()
		if f.MinLength != nil && len(a) < *f.MinLength {
			return "must have at least " + plural(*f.MinLength, "element")
		}
		if f.MaxLength != nil && len(a) > *f.MaxLength {
			return "must have at most " + plural(*f.MaxLength, "element")
		}
	}
	return ""
}

// reservedField reports fields the server owns in outbound messages: a
// client cannot set them, so a message can never claim another sender.
func reservedField(k []byte) bool {
	switch string(k) {
	case "type", "id", "userId", "ts":
		return true
	}
	return false
}

// appendOutbound encodes the delivered message: the route's outbound type,
// the client's fields (only the schema's when the route declares one), then
// the fields the server owns. It is called once per message, whatever the
// number of recipients.
func appendOutbound(dst []byte, typ string, obj *fastjson.Object, fields []*config.Field, userID string, ts int64, id string) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, typ)
	if fields != nil {
		for _, f := range fields {
			v := obj.Get(f.Name)
			if v == nil || reservedField([]byte(f.Name)) {
				continue
			}
			dst = append(dst, ',')
			dst = appendString(dst, f.Name)
			dst = append(dst, ':')
			dst = v.MarshalTo(dst)
		}
	} else {
		obj.Visit(func(k []byte, v *fastjson.Value) {
			if reservedField(k) {
				return
			}
			dst = append(dst, ',')
			dst = appendString(dst, string(k))
			dst = append(dst, ':')
			dst = v.MarshalTo(dst)
		})
	}
	if userID != "" {
		dst = append(dst, `,"userId":`...)
		dst = appendString(dst, userID)
	}
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"id":`...)
	dst = appendString(dst, id)
	return append(dst, '}')
}

// appendString appends s as a JSON string. Invalid UTF-8 is replaced so
// every frame the server writes is valid text.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
