package sdk

import (
	"bytes"
	"errors"
	"unicode/utf8"
)

// RewriteStrings rewrites top-level string fields of a JSON envelope. For
// every top-level member of the object envelope whose name is in fields
// and whose value is a string, it calls f with that name and the decoded
// value; where f reports changed, the member's value becomes newValue
// (encoded as a JSON string, so it may hold any bytes). It returns the new
// envelope and true when f changed anything, and envelope itself (no copy)
// and false when it did not.
//
// Every occurrence of a name is visited, including duplicate keys: the
// field accessors of Message find the first of duplicate keys, but a
// browser's JSON.parse keeps the last, so a filter that looked only at the
// first would let a duplicate through. Names are compared decoded, so
// "te\u0078t" is the field "text". Nested objects, arrays and non-string
// values are left as they are.
//
// value is decoded as encoding/json decodes a string. Without escapes it
// points into envelope (no copy, no allocation); either way it is valid
// only until f returns, and f must not modify it. An envelope that is not a
// JSON object is an error; the host checks envelopes are JSON before a
// plugin sees them.
func RewriteStrings(envelope []byte, fields []string, f func(field string, value []byte) (newValue []byte, changed bool)) (out []byte, changed bool, err error) {
	env := envelope
	bad := func(what string) ([]byte, bool, error) {
		return nil, false, errors.New("envelope is not a JSON object: " + what)
	}
	i := skipSpace(env, 0)
	if i >= len(env) || env[i] != '{' {
		return bad("no {")
	}
	last := 0 // env[last:] is not yet in out
	for i = skipSpace(env, i+1); i < len(env) && env[i] != '}'; {
		if env[i] != '"' {
			return bad("bad member name")
		}
		kEnd, kEscaped, ok := skipString(env, i)
		if !ok {
			return bad("bad member name")
		}
		key := env[i+1 : kEnd-1]
		if i = skipSpace(env, kEnd); i >= len(env) || env[i] != ':' {
			return bad("no :")
		}
		i = skipSpace(env, i+1)
		vEnd, ok := skipValue(env, i)
		if !ok {
			return bad("bad value")
		}
		if env[i] == '"' {
			if field, ok := matchField(key, kEscaped, fields); ok {
				s, ok := decodeString(env[i+1 : vEnd-1])
				if !ok {
					return bad("bad string escape")
				}
				if t, ok := f(field, s); ok {
					if out == nil {
						out = make([]byte, 0, len(env)+len(t)+16)
					}
					out = appendString(append(out, env[last:i]...), t)
					last, changed = vEnd, true
				}
			}
		}
		if i = skipSpace(env, vEnd); i < len(env) && env[i] == ',' {
			i = skipSpace(env, i+1)
		}
	}
	if !changed {
		return envelope, false, nil
	}
	return append(out, env[last:]...), true, nil
}

// matchField returns the entry of fields equal to the member name key (the
// body of a JSON string; escaped says whether it has escapes).
func matchField(key []byte, escaped bool, fields []string) (string, bool) {
	if escaped { // "te\u0078t" is "text"
		var ok bool
		if key, ok = decodeString(key); !ok {
			return "", false
		}
	}
	for _, f := range fields {
		if str(key) == f {
			return f, true
		}
	}
	return "", false
}

// decodeString decodes the body of a JSON string as encoding/json does:
// without escapes it is the body itself, no copy; otherwise escapes are
// decoded into a new slice and invalid UTF-8 becomes U+FFFD.
func decodeString(body []byte) ([]byte, bool) {
	if bytes.IndexByte(body, '\\') < 0 {
		return body, true
	}
	u, ok := unescape(make([]byte, 0, len(body)), body)
	if !ok {
		return nil, false
	}
	if utf8.Valid(u) {
		return u, true
	}
	// encoding/json replaces each invalid byte with U+FFFD. The escapes
	// decode to ASCII or whole runes, which never complete a sequence raw
	// bytes started, so checking the decoded bytes is the same.
	fixed := make([]byte, 0, len(u)+8)
	for len(u) > 0 {
		r, n := utf8.DecodeRune(u)
		if r == utf8.RuneError && n == 1 {
			fixed = utf8.AppendRune(fixed, utf8.RuneError)
		} else {
			fixed = append(fixed, u[:n]...)
		}
		u = u[n:]
	}
	return fixed, true
}

// appendString appends s to dst as a JSON string.
func appendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
