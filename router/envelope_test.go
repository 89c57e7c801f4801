package router

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-rt/switchboard/router/config"
)

func intp(n int) *int { return &n }

// For any envelope the server accepts, every frame it makes of it (the
// delivery, with and without a schema, and the ack) is RFC 8259 JSON, and
// the values delivered equal what encoding/json, the reference, decodes
// from the sender's bytes. Refusals are clear and short, and the codes
// agree with an independent check (duplicate names).
func FuzzEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"type":"send_message","roomId":"r","text":"hi"}`,
		`{"type":"x","id":"1","userId":"spoof","ts":1,"nested":{"a":[1,2,{"b":null}]}}`,
		`{"type":"x","text":"\u2028\ud800 é \" \\ </script>"}`,
		`{"type":"","id":7}`,
		`[1]`, `{"type":`, `{"type":"a","id":{}}`, "{\"type\":\"a\",\"t\":\"\x01\"}",
		// Issue 9's inputs.
		`{"type":"send_message","roomId":"r","text":"x\u0007y","id":"x\u0007y"}`,
		`{"type":"send_message","roomId":"r","text":"\ud83d cut"}`,
		`{"type":"chat","roomId":"r","text":"hello","text":"see http://evil.example"}`,
		`{"type":"n","roomId":"9007199254740993","n":9007199254740993,"id":1e308}`,
		// Issue 10's: out of float64's range (refused), underflow (passes).
		`{"type":"chat","roomId":"r","v":1e999,"w":[-1E+400]}`,
		`{"type":"chat","id":1e999}`,
		`{"type":"n","f":1.7976931348623157e308,"g":-1e-999,"h":[0.0e-0]}`,
		`{"type":"x","k\u0000\u001f":{"a\"":["\ud83d\ude00","\u00e9\/"]},"te\u0078t":1,"text":2}`,
	} {
		f.Add([]byte(s))
	}
	schema := []*config.Field{
		{Name: "roomId", Type: config.TypeString, Required: true, MaxLength: intp(128)},
		{Name: "text", Type: config.TypeString, MaxLength: intp(2000)},
		{Name: "n", Type: config.TypeNumber, Max: floatp(9007199254740992), MaxExact: "9007199254740992"},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			// Text frames are UTF-8-checked by the transport (close 1007),
			// Publish and Evaluate check it themselves (checkUTF8).
			if checkUTF8(data) == nil {
				t.Fatalf("checkUTF8 accepted %q", data)
			}
			return
		}
		var env envelope
		defer env.release()
		if err := parseEnvelope(data, &env); err != nil {
			if err.Code == "" || err.Message == "" || !utf8.ValidString(err.Message) || len(err.Message) > 200 {
				t.Fatalf("unclear error %+v", err)
			}
			if (err.Code == CodeDuplicateKey) != (hasDuplicateNames(data) && err.Code != CodeInvalidString) {
				t.Fatalf("%q: code %s, duplicate names %v", data, err.Code, hasDuplicateNames(data))
			}
			if err.Code == CodeInvalidNumber && decodePlain(data) == nil {
				t.Fatalf("%q: %s, yet encoding/json decodes it", data, err.Code)
			}
			return
		}
		if !json.Valid(data) || env.typ == "" || hasDuplicateNames(data) {
			t.Fatalf("accepted %q", data)
		}
		// What JavaScript's JSON.parse and encoding/json read as float64
		// must be numbers there: no Infinity (RFC 7493 §2.2).
		if err := decodePlain(data); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", data, err)
		}
		want := decodeNumbers(t, data)
		_ = checkSchema(env.obj, schema)
		for _, fields := range [][]*config.Field{nil, schema} {
			out := appendOutbound(nil, env.typ, env.obj, fields, "alice", 1, "n-1")
			if err := decodePlain(out); err != nil {
				t.Fatalf("sent %s\ndelivered %s, which encoding/json refuses: %v", data, out, err)
			}
			got := decodeNumbers(t, out)
			if got["userId"] != "alice" || got["id"] != "n-1" || got["type"] != env.typ {
				t.Fatalf("outbound %s lost the server's fields", out)
			}
			for k, v := range want {
				if reservedField([]byte(k)) {
					continue
				}
				if fields != nil && !slices.ContainsFunc(fields, func(f *config.Field) bool { return f.Name == k }) {
					if _, ok := got[k]; ok {
						t.Fatalf("outbound %s has %q, which the schema does not declare", out, k)
					}
					continue
				}
				if !reflect.DeepEqual(got[k], v) {
					t.Fatalf("sent %s\ndelivered %s\nfield %q = %#v, want %#v", data, out, k, got[k], v)
				}
			}
		}
		if env.id != nil {
			if err := decodePlain(ackFrame(env.id)); err != nil {
				t.Fatalf("sent %s\nack %s, which encoding/json refuses: %v", data, ackFrame(env.id), err)
			}
			ack := decodeNumbers(t, ackFrame(env.id))
			if !reflect.DeepEqual(ack["id"], want["id"]) {
				t.Fatalf("sent %s\nack %s", data, ackFrame(env.id))
			}
		}
	})
}

func floatp(f float64) *float64 { return &f }

// decodePlain decodes JSON as most clients do, numbers as float64: it
// fails on a number beyond float64's range.
func decodePlain(b []byte) error {
	var v any
	return json.Unmarshal(b, &v)
}

// decodeNumbers decodes a JSON object with encoding/json, numbers as sent.
func decodeNumbers(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%q is not RFC 8259 JSON: %v", b, err)
	}
	return m
}

// hasDuplicateNames reports whether any object in the JSON text names a
// member twice, after decoding the names: a check independent of the one
// the router uses, built on encoding/json's tokens.
func hasDuplicateNames(data []byte) bool {
	type level struct {
		names     map[string]bool // nil in an array
		expectKey bool
	}
	var stack []*level
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].names != nil {
			stack[n-1].expectKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // a number beyond float64 must not end the walk early
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if s, ok := tok.(string); ok && len(stack) > 0 && stack[len(stack)-1].expectKey {
			l := stack[len(stack)-1]
			if l.names[s] {
				return true
			}
			l.names[s], l.expectKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{names: map[string]bool{}, expectKey: true})
		case json.Delim('['):
			stack = append(stack, &level{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x1f\n\t", "<&>", "é中🙂", "\u2028\u2029", "bad\xffutf8"} {
		out := appendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q -> %s: %v", s, out, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = "bad\uFFFDutf8"
		}
		if got != want {
			t.Fatalf("%q -> %s -> %q", s, out, got)
		}
	}
}

func TestEncodeFrameLengths(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		f := encodeFrame(opText, make([]byte, n))
		var hdr int
		switch {
		case n < 126:
			hdr = 2
		case n <= 65535:
			hdr = 4
		default:
			hdr = 10
		}
		if len(f) != hdr+n || f[0] != 0x81 {
			t.Fatalf("n=%d: len %d header %x", n, len(f), f[:2])
		}
		// The length as RFC 6455 encodes it, read back independently.
		var got int
		switch f[1] {
		case 126:
			got = int(binary.BigEndian.Uint16(f[2:4]))
		case 127:
			got = int(binary.BigEndian.Uint64(f[2:10]))
		default:
			got = int(f[1])
		}
		if got != n {
			t.Fatalf("n=%d: header says %d", n, got)
		}
	}
}
