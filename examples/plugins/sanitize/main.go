// Command sanitize is a plugin that makes relayed text inert as HTML: it
// escapes < > & " ' in the configured fields, so a client that puts the text
// into innerHTML shows "<script>" instead of running it.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o sanitize.wasm ./examples/plugins/sanitize
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-rt/switchboard/sdk"
)

// config is the plugin block's config.
type config struct {
	Fields []string `json:"fields"` // top-level string fields to escape; default ["text"]
}

var cfg config

func init() {
	sdk.HandleInit(func() error {
		cfg = config{}
		if err := decodeConfig(&cfg); err != nil {
			return err
		}
		if cfg.Fields == nil {
			cfg.Fields = []string{"text"}
		}
		if len(cfg.Fields) == 0 {
			return errors.New(`fields: list at least one field, e.g. fields = ["text"]`)
		}
		for _, f := range cfg.Fields {
			if f == "" || f == "type" {
				return fmt.Errorf("fields: %q cannot be sanitized; list the envelope's text fields, e.g. \"text\"", f)
			}
		}
		return nil
	})
	sdk.HandleMessage(sanitize)
}

func sanitize(m *sdk.Message) sdk.Verdict {
	env, changed, err := rewrite(m.Envelope(), cfg.Fields, escape)
	if err != nil {
		// The host checked the envelope is JSON: this is a bug here.
		return sdk.Reject("sanitize_failed", err.Error())
	}
	if !changed {
		return sdk.Allow()
	}
	sdk.Count("sanitized", 1)
	return sdk.Transform(env)
}

// escape returns s with the characters that are special in HTML escaped
// as html.EscapeString does (without linking package html and its entity
// tables), or nil when there are none.
func escape(s []byte) []byte {
	var out []byte
	last := 0 // s[last:] is not yet in out
	for i, c := range s {
		var e string
		switch c {
		case '&':
			e = "&amp;"
		case '<':
			e = "&lt;"
		case '>':
			e = "&gt;"
		case '"':
			e = "&#34;"
		case '\'':
			e = "&#39;"
		default:
			continue
		}
		out = append(append(out, s[last:i]...), e...)
		last = i + 1
	}
	if out == nil {
		return nil
	}
	return append(out, s[last:]...)
}

// decodeConfig decodes the config strictly: a misspelt key is an error,
// not a silently ignored setting.
func decodeConfig(v any) error {
	var raw json.RawMessage
	if err := sdk.Config(&raw); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// rewrite passes the value of every top-level string member of the JSON
// object env whose name is in names to f, and returns env with the values f
// changed (returned non-nil) replaced. It visits every occurrence of a name: the SDK's field
// lookups find the first of duplicate keys, but a browser's JSON.parse keeps
// the last, so checking only the first would let a duplicate through.
func rewrite(env []byte, names []string, f func([]byte) []byte) (out []byte, changed bool, err error) {
	bad := func(what string) ([]byte, bool, error) {
		return nil, false, errors.New("envelope is not a JSON object: " + what)
	}
	i := skipSpace(env, 0)
	if i >= len(env) || env[i] != '{' {
		return bad("no {")
	}
	last := 0 // env[last:] is not yet in out
	for i = skipSpace(env, i+1); i < len(env) && env[i] != '}'; {
		kEnd, ok := skipString(env, i)
		if !ok {
			return bad("bad member name")
		}
		key := env[i:kEnd]
		if i = skipSpace(env, kEnd); i >= len(env) || env[i] != ':' {
			return bad("no :")
		}
		i = skipSpace(env, i+1)
		vEnd, ok := skipValue(env, i)
		if !ok {
			return bad("bad value")
		}
		if env[i] == '"' && wanted(key, names) {
			s, err := decodeString(env[i:vEnd])
			if err != nil {
				return nil, false, err
			}
			if t := f(s); t != nil {
				out = appendString(append(out, env[last:i]...), t)
				last, changed = vEnd, true
			}
		}
		if i = skipSpace(env, vEnd); i < len(env) && env[i] == ',' {
			i = skipSpace(env, i+1)
		}
	}
	if !changed {
		return env, false, nil
	}
	return append(out, env[last:]...), true, nil
}

// decodeString decodes the JSON string raw: without escapes it is its own
// body, no copy; encoding/json costs microseconds in wasm, so only strings
// with escapes go through it.
func decodeString(raw []byte) ([]byte, error) {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return body, nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return []byte(s), err
}

// wanted reports whether the quoted JSON member name key is in names.
func wanted(key []byte, names []string) bool {
	name := key[1 : len(key)-1]
	if bytes.IndexByte(name, '\\') >= 0 { // escaped: "te\u0078t" is "text"
		var s string
		if json.Unmarshal(key, &s) != nil {
			return false
		}
		name = []byte(s)
	}
	for _, n := range names {
		if string(name) == n {
			return true
		}
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++
		}
	}
	return 0, false
}

// skipValue returns the index after the JSON value that starts at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			}
		}
		return 0, false
	}
	start := i // number, true, false, null
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
		i++
	}
	return i, i > start
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

func main() {}
