package router

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/valyala/fastjson"

	"github.com/switchboard-rt/switchboard/router/config"
)

// Stable error codes sent to clients in {"type":"error","code":...}.
const (
	CodeBadJSON        = "bad_json"          // the text frame is not a JSON object
	CodeDuplicateKey   = "duplicate_key"     // an object names one member twice (RFC 7493 §2.3)
	CodeInvalidString  = "invalid_string"    // a string has a lone surrogate escape or bad UTF-8 (RFC 7493 §2.1)
	CodeInvalidNumber  = "invalid_number"    // a number's magnitude is beyond float64's (RFC 7493 §2.2)
	CodeMissingType    = "missing_type"      // no "type" string
	CodeUnknownType    = "unknown_type"      // no route for this type
	CodeInvalidField   = "invalid_field"     // schema check failed
	CodeBadID          = "bad_id"            // "id" is not a string or number of at most 128 bytes
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
	// fastjson builds the tree but is lenient (control characters, lone
	// surrogates and duplicate names all pass), so the frame is first
	// checked as I-JSON: what plugins, the schema and recipients see is then
	// one and the same value.
	if !jsontext.Value(data).IsValid() {
		return describeInvalid(data)
	}
	p := parserPool.Get()
	v, err := p.ParseBytes(data)
	if err != nil {
		// Valid JSON that fastjson refuses nests deeper than it allows.
		parserPool.Put(p)
		return &Error{Code: CodeBadJSON, Message: "message nests objects and arrays more than " + strconv.Itoa(fastjson.MaxDepth) + " deep"}
	}
	obj, err := v.Object()
	if err != nil {
		parserPool.Put(p)
		return &Error{Code: CodeBadJSON, Message: "message must be a JSON object"}
	}
	if !finite(v) {
		parserPool.Put(p)
		return describeNumber(data)
	}
	env.parser, env.obj = p, obj
	if idv := obj.Get("id"); idv != nil {
		// The id is echoed in acks and errors: re-encoded, never copied,
		// so the echo is RFC 8259 JSON whatever escapes the client used.
		switch idv.Type() {
		case fastjson.TypeString:
			if s, _ := idv.StringBytes(); len(s) <= maxIDLength {
				env.id = appendString(nil, b2s(s))
			}
		case fastjson.TypeNumber:
			if n := idv.MarshalTo(nil); len(n) <= maxIDLength {
				env.id = n
			}
		}
		if env.id == nil {
			env.release()
			return &Error{Code: CodeBadID, Message: "id must be a string or a number of at most " + strconv.Itoa(maxIDLength) + " bytes"}
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

// describeInvalid says what is wrong with a frame that is not I-JSON
// (RFC 7493) and where, as a byte offset. It runs only on refused frames.
func describeInvalid(data []byte) *Error {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	err := dec.SkipValue()
	if err == nil {
		// The decoder reads a stream of values; a frame holds one.
		end := dec.InputOffset()
		rest := bytes.TrimLeft(data[end:], " \t\r\n")
		return &Error{Code: CodeBadJSON, Message: "message has more after its JSON value (at byte " + strconv.Itoa(len(data)-len(rest)) + ")"}
	}
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		if len(bytes.TrimSpace(data)) == 0 || errors.Is(err, io.EOF) {
			return &Error{Code: CodeBadJSON, Message: "message is empty; send a JSON object"}
		}
		return &Error{Code: CodeBadJSON, Message: "message is not valid JSON"}
	}
	at := " (at byte " + strconv.FormatInt(se.ByteOffset, 10) + ")"
	cause := se.Err.Error()
	switch {
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		return &Error{Code: CodeDuplicateKey, Message: "member name " + quote(se.JSONPointer.LastToken()) + " appears twice in one object" + at}
	case strings.Contains(cause, "surrogate"):
		return &Error{Code: CodeInvalidString, Message: `string has a \u escape of half a UTF-16 surrogate pair (\ud800-\udfff must come in pairs)` + at}
	case cause == "invalid UTF-8":
		return &Error{Code: CodeInvalidString, Message: "string is not valid UTF-8" + at}
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return &Error{Code: CodeBadJSON, Message: "message ends in the middle of a JSON value" + at}
	}
	// The decoder's causes are plain words ("invalid character ',' at
	// start of value") that quote at most a few bytes of input.
	return &Error{Code: CodeBadJSON, Message: "message is not valid JSON: " + clip(cause, maxQuoted) + at}
}

// finite reports whether every number in v, at any depth, is within
// float64's range: I-JSON (RFC 7493 §2.2) keeps to IEEE 754 doubles, and a
// number beyond ±1.7976931348623157e308 is Infinity to JavaScript and an
// error to Go's encoding/json. Numbers that underflow (1e-400) pass: they
// lose precision, as I-JSON allows, but every decoder reads them (as 0).
func finite(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNumber:
		// fastjson's parse is within a few ULPs and allocates nothing:
		// far below the limit it settles the question, near it (rare)
		// the text is parsed exactly.
		if f, err := v.Float64(); err == nil && math.Abs(f) < 1e308 {
			return true
		}
		return finiteNumber(v.MarshalTo(nil))
	case fastjson.TypeObject:
		o, _ := v.Object()
		ok := true
		o.Visit(func(_ []byte, v *fastjson.Value) {
			ok = ok && finite(v)
		})
		return ok
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, e := range a {
			if !finite(e) {
				return false
			}
		}
	}
	return true
}

// finiteNumber reports whether the JSON number s is below float64's
// largest magnitude once rounded, as strconv.ParseFloat and every JSON
// decoder round it. Without an exponent and under 309 bytes it is below
// 1e308, so only other numbers are parsed.
func finiteNumber(s []byte) bool {
	if len(s) < 309 && !bytes.ContainsAny(s, "eE") {
		return true
	}
	f, _ := strconv.ParseFloat(b2s(s), 64)
	return !math.IsInf(f, 0)
}

// describeNumber says which number of a frame finite refused and where,
// as a byte offset. It runs only on refused frames.
func describeNumber(data []byte) *Error {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	for {
		if dec.PeekKind() != '0' {
			if _, err := dec.ReadToken(); err != nil {
				break
			}
			continue
		}
		num, err := dec.ReadValue()
		if err != nil {
			break
		}
		if !finiteNumber(num) {
			at := dec.InputOffset() - int64(len(num))
			return &Error{Code: CodeInvalidNumber, Message: "number " + clip(string(num), 24) + " is out of range: beyond ±1.7976931348623157e308 it is Infinity, not a number (RFC 7493 §2.2) (at byte " + strconv.FormatInt(at, 10) + ")"}
		}
	}
	return &Error{Code: CodeInvalidNumber, Message: "a number is out of range: beyond ±1.7976931348623157e308 it is Infinity, not a number (RFC 7493 §2.2)"}
}

// b2s views b as a string without copying; b must not change while the
// string is in use.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

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
		if f.Min != nil && cmpBound(v, *f.Min, f.MinExact) < 0 {
			return "must be at least " + boundText(*f.Min, f.MinExact)
		}
		if f.Max != nil && cmpBound(v, *f.Max, f.MaxExact) > 0 {
			return "must be at most " + boundText(*f.Max, f.MaxExact)
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

// cmpBound compares the number v with a schema bound exactly, as decimals
// (see cmpDecimal): -1, 0 or +1.
func cmpBound(v *fastjson.Value, bound float64, exact string) int {
	var buf [64]byte
	return cmpDecimal(b2s(v.MarshalTo(buf[:0])), boundText(bound, exact))
}

// boundText is a schema bound as the config wrote it.
func boundText(bound float64, exact string) string {
	if exact != "" {
		return exact
	}
	return strconv.FormatFloat(bound, 'g', -1, 64)
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
			dst = appendValue(dst, v)
		}
	} else {
		obj.Visit(func(k []byte, v *fastjson.Value) {
			if reservedField(k) {
				return
			}
			dst = append(dst, ',')
			dst = appendString(dst, b2s(k))
			dst = append(dst, ':')
			dst = appendValue(dst, v)
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

// appendValue appends v as RFC 8259 JSON. Strings and names are encoded
// from their decoded value by appendString, never by fastjson's MarshalTo,
// which writes Go escapes (\a, \x01, \U0001f600) that JSON does not have.
// Numbers are copied as sent: the frame was checked, so they are JSON.
func appendValue(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendString(dst, b2s(b))
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		first := true
		o.Visit(func(k []byte, v *fastjson.Value) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, b2s(k))
			dst = append(dst, ':')
			dst = appendValue(dst, v)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e)
		}
		return append(dst, ']')
	}
	return v.MarshalTo(dst) // number, true, false, null
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
