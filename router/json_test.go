package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/router"
)

// jsonHCL adds routes without a schema (every field relayed, at any depth)
// and with number bounds to the default config.
const jsonHCL = `
plugin "links" {
  native = true
}
route "chat" {
  plugins = [plugin.links]
  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
  }
}
route "note" {
  schema {
    field "roomId" {
      type     = "string"
      required = true
    }
    field "text" {
      type = "string"
    }
  }
  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
  }
}
route "score" {
  schema {
    field "n" {
      type = "number"
      min  = -9007199254740992
      max  = 9007199254740992
    }
    field "f" {
      type = "number"
      min  = 0.1
    }
  }
  deliver {
    to = "sender"
  }
}
`

// rawFrame returns the next text frame as sent, without parsing it.
func (c *client) rawFrame() []byte {
	c.t.Helper()
	select {
	case f := <-c.in:
		if f.err != nil {
			c.t.Fatalf("%s read: %v", c.user, f.err)
		}
		return f.data
	case <-time.After(5 * time.Second):
		c.t.Fatalf("%s: no frame", c.user)
	}
	return nil
}

// decodeJSON decodes with encoding/json, the reference, keeping numbers exact.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("frame %q is not RFC 8259 JSON: %v", b, err)
	}
	return m
}

func jsonServer(t *testing.T, calls *atomic.Int32) *server {
	links := router.PolicyFunc(func(_ context.Context, m *router.Message) router.Verdict {
		calls.Add(1)
		if bytes.Contains(m.Payload, []byte("http://")) {
			return router.Verdict{Action: router.Reject, Code: "no_links", Reason: "no links"}
		}
		return router.Verdict{Action: router.Allow}
	})
	return startServer(t, defaultHCL(t)+jsonHCL, router.WithPolicy("links", links))
}

// Issue 9 item 4: control characters, in any string and in the echoed id,
// reach every peer as RFC 8259 escapes, and decode to what was sent.
func TestControlCharactersRelayedAsJSON(t *testing.T) {
	var calls atomic.Int32
	s := jsonServer(t, &calls)
	a, b := s.dial("alice"), s.dial("bob")
	a.join("r")
	b.join("r")
	a.expect("user_joined")
	var esc []string
	for c := 0; c < 0x20; c++ {
		esc = append(esc, fmt.Sprintf(`\u%04x`, c))
	}
	esc = append(esc, `\u007f`, `\u2028`, `\u2029`, `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\ud83d\ude00`, `\u00e9`, `<\u0026>`)
	for _, e := range esc {
		str := `"x` + e + `y"`
		for _, msg := range []string{
			// A route with a schema (the schema check decodes the strings).
			`{"type":"note","roomId":"r","text":` + str + `,"id":` + str + `}`,
			// A route without one: every field, names and nesting too.
			`{"type":"chat","roomId":"r","k` + e + `":{"a":[` + str + `,{"b":` + str + `}]},"id":` + str + `}`,
		} {
			a.send(msg)
			want := decodeJSON(t, []byte(msg))
			got := decodeJSON(t, b.rawFrame())
			for k, v := range want {
				if k == "type" || k == "id" {
					continue
				}
				if !equalJSON(got[k], v) {
					t.Fatalf("sent %s\nfield %q = %#v, want %#v", msg, k, got[k], v)
				}
			}
			ack := decodeJSON(t, a.rawFrame())
			if ack["type"] != "ack" || ack["id"] != want["id"] {
				t.Fatalf("sent %s\nack %v, want id %q", msg, ack, want["id"])
			}
		}
	}
	// The error reply echoes the id as JSON too.
	a.send(`{"type":"nope","id":"x\u0007y"}`)
	if m := decodeJSON(t, a.rawFrame()); m["type"] != "error" || m["id"] != "x\ay" {
		t.Fatalf("error = %v", m)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// Issue 9 item 5: lone surrogates are refused (I-JSON, RFC 7493 §2.1), in
// values, names and ids, with or without a schema, before plugins run.
func TestLoneSurrogatesRefused(t *testing.T) {
	var calls atomic.Int32
	s := jsonServer(t, &calls)
	a, b := s.dial("alice"), s.dial("bob")
	a.join("r")
	b.join("r")
	a.expect("user_joined")
	for _, msg := range []string{
		`{"type":"send_message","roomId":"r","text":"\ud83d cut","id":"s1"}`,
		`{"type":"send_message","roomId":"r","text":"\ud83d","id":"s1"}`,
		`{"type":"send_message","roomId":"r","text":"\ude00 low first","id":"s1"}`,
		`{"type":"send_message","roomId":"r","text":"\ud83d\u0041","id":"s1"}`,
		`{"type":"send_message","roomId":"r","text":"\ud83d\ud83d","id":"s1"}`,
		`{"type":"chat","roomId":"r","nested":["ok",{"x":"\udfff"}],"id":"s1"}`,
		`{"type":"chat","roomId":"r","k\ud800":1,"id":"s1"}`,
		`{"type":"chat","roomId":"r","id":"s\ud800"}`,
	} {
		a.send(msg)
		m := a.expect("error")
		if m["code"] != router.CodeInvalidString || !strings.Contains(m["message"].(string), "at byte ") {
			t.Fatalf("%s: %v", msg, m)
		}
		if id, ok := m["id"]; ok && id != "s1" {
			t.Fatalf("%s: id %v", msg, m)
		}
	}
	b.expectNothing()
	if n := calls.Load(); n != 0 {
		t.Fatalf("the plugin ran %d times on refused frames", n)
	}
	// A pair is fine.
	a.send(`{"type":"send_message","roomId":"r","text":"\ud83d\ude00 ok"}`)
	if m := b.expect("message_received"); m["text"] != "😀 ok" {
		t.Fatalf("pair: %v", m)
	}
	// The same verdict offline.
	if res := s.router.Evaluate(context.Background(), "alice", nil, []byte(`{"type":"send_message","roomId":"r","text":"\ud83d cut"}`)); res.Error == nil || res.Error.Code != router.CodeInvalidString {
		t.Fatalf("Evaluate: %+v", res)
	}
}

// Issue 9 item 6: duplicate member names, at any depth, with or without a
// schema, are refused before any plugin sees the message.
func TestDuplicateNamesRefused(t *testing.T) {
	var calls atomic.Int32
	s := jsonServer(t, &calls)
	a, b := s.dial("alice"), s.dial("bob")
	a.join("r")
	b.join("r")
	a.expect("user_joined")
	for _, msg := range []string{
		`{"type":"chat","roomId":"r","text":"hello","text":"see http://evil.example","id":"d"}`,
		`{"type":"send_message","roomId":"r","text":"hello","text":"see http://evil.example","id":"d"}`,
		`{"type":"chat","roomId":"r","text":"a","te\u0078t":"b","id":"d"}`,
		`{"type":"chat","roomId":"r","m":{"a":1,"b":{"c":[{"x":1,"x":1}]}},"id":"d"}`,
		`{"type":"chat","type":"chat","roomId":"r","id":"d"}`,
		`{"type":"chat","roomId":"r","roomId":"s","id":"d"}`,
		`{"type":"chat","roomId":"r","id":"d","id":"e"}`,
	} {
		a.send(msg)
		m := a.expect("error")
		if m["code"] != router.CodeDuplicateKey || !strings.Contains(m["message"].(string), "at byte ") {
			t.Fatalf("%s: %v", msg, m)
		}
	}
	b.expectNothing()
	if n := calls.Load(); n != 0 {
		t.Fatalf("the plugin ran %d times on refused frames", n)
	}
	// The same name in different objects is fine.
	a.send(`{"type":"chat","roomId":"r","a":{"x":1},"b":{"x":2}}`)
	if m := b.expect("chat"); m["b"].(map[string]any)["x"] != float64(2) {
		t.Fatalf("got %v", m)
	}
}

// Issue 9 item 7: schema bounds are compared exactly, not as float64.
func TestSchemaNumberBoundsExact(t *testing.T) {
	var calls atomic.Int32
	s := jsonServer(t, &calls)
	a := s.dial("alice")
	for _, tc := range []struct {
		n  string
		ok bool
	}{
		{"9007199254740992", true},
		{"9007199254740993", false},
		{"9007199254740992.0000000000000000000001", false},
		{"9.007199254740993e15", false},
		{"90071992547409920e-1", true},
		{"1.7976931348623157e308", false},
		{"-9007199254740992", true},
		{"-9007199254740993", false},
		{"-1.7976931348623157e308", false},
		{"0", true},
		{"-0", true},
		{"1e-400", true},
	} {
		a.send(`{"type":"score","n":` + tc.n + `}`)
		m := decodeJSON(t, a.rawFrame())
		if tc.ok {
			if m["type"] != "score" || string(m["n"].(json.Number)) != tc.n {
				t.Fatalf("n = %s: %v", tc.n, m)
			}
		} else if m["code"] != router.CodeInvalidField || m["field"] != "n" {
			t.Fatalf("n = %s accepted: %v", tc.n, m)
		}
	}
	for _, tc := range []struct {
		f  string
		ok bool
	}{{"0.1", true}, {"0.10000000000000000001", true}, {"0.09999999999999999999", false}, {"1e-1", true}} {
		a.send(`{"type":"score","f":` + tc.f + `}`)
		m := decodeJSON(t, a.rawFrame())
		if (m["type"] == "score") != tc.ok {
			t.Fatalf("f = %s: %v", tc.f, m)
		}
	}
	a.send(`{"type":"score","n":9007199254740993}`)
	if m := a.expect("error"); m["message"] != `"n" must be at most 9007199254740992` {
		t.Fatalf("message: %v", m["message"])
	}
}

// Issue 9 item 7: the id is bounded, string or number, and a refused id is
// not echoed.
func TestClientIDBounded(t *testing.T) {
	var calls atomic.Int32
	s := jsonServer(t, &calls)
	a := s.dial("alice")
	num128 := strings.Repeat("9", 128)
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{num128, true},
		{num128 + "9", false},
		{"0." + strings.Repeat("9", 50000), false}, // 50,002 bytes, within float64's range
		{`"` + strings.Repeat("x", 128) + `"`, true},
		{`"` + strings.Repeat("x", 129) + `"`, false},
		{`"` + strings.Repeat("é", 65) + `"`, false}, // 130 bytes
		{"-1.5e3", true},
	} {
		a.send(`{"type":"score","id":` + tc.id + `}`)
		raw := a.rawFrame()
		m := decodeJSON(t, raw)
		switch {
		case tc.ok && m["type"] == "score":
			ack := decodeJSON(t, a.rawFrame())
			if want := decodeJSON(t, []byte(`{"id":`+tc.id+`}`))["id"]; ack["type"] != "ack" || !equalJSON(ack["id"], want) {
				t.Fatalf("id %.20s: ack %v", tc.id, ack)
			}
		case !tc.ok && m["code"] == router.CodeBadID:
			if _, echoed := m["id"]; echoed || len(raw) > 200 {
				t.Fatalf("id %.20s: refusal echoes it: %s", tc.id, raw)
			}
		default:
			t.Fatalf("id %.20s (ok %v): %s", tc.id, tc.ok, raw)
		}
	}
}

// Issue 10 item 8: bad JSON is described by what and where, in the
// server's words, not a parser's.
func TestBadJSONSaysWhere(t *testing.T) {
	var calls atomic.Int32
	s := jsonServer(t, &calls)
	a := s.dial("alice")
	for _, tc := range []struct{ msg, want string }{
		{`{"type":"send_message",}`, "at byte 22"},
		{`{"type":"send_message"`, "ends in the middle"},
		{`{"type":"x"} {}`, "at byte 13"},
		{"{\"type\":\"x\",\"t\":\"a\x01\"}", "at byte 18"},
		{`{"type":"x","t":"a\q"}`, "at byte 18"},
		{`{"type":"x","n":01}`, "at byte 17"},
		{`{"type":"x","n":NaN}`, "at byte 16"},
		{``, "empty"},
		{`[1]`, "must be a JSON object"},
		{strings.Repeat("[", 400) + strings.Repeat("]", 400), "more than 300 deep"},
	} {
		a.send(tc.msg)
		m := a.expect("error")
		msg, _ := m["message"].(string)
		if m["code"] != router.CodeBadJSON || !strings.Contains(msg, tc.want) {
			t.Fatalf("%.40q: %v, want %q", tc.msg, m, tc.want)
		}
		for _, internal := range []string{"fastjson", "jsontext", "json:", "cannot parse", "unexpected tail", "Go"} {
			if strings.Contains(msg, internal) {
				t.Fatalf("%.40q: message %q names parser internals (%q)", tc.msg, msg, internal)
			}
		}
		if len(msg) > 160 {
			t.Fatalf("%.40q: message is %d bytes", tc.msg, len(msg))
		}
		// A message a route takes resets close_after's count of refused
		// frames in a row, which ten bad frames would otherwise reach.
		a.send(`{"type":"score","n":1}`)
		a.expect("score")
	}
	// Still open.
	a.send(`{"type":"score","n":1,"id":1}`)
	a.expect("score")
}

// Issue 9 item 14: a config value means what the live server checks, and
// a test block's message is decoded as a live frame: max_length counts the
// code points sent, and an enum written with a combining accent matches
// exactly that, offline (the test blocks, through Evaluate, as `switchboard
// test` runs them) and live.
func TestConfigStringsAsWrittenOfflineAndLive(t *testing.T) {
	// The enum's second value holds a literal combining accent (U+0301) in
	// the source, the first an escape: neither may become "é" (U+00E9).
	hcl := defaultHCL(t) + `
route "name" {
  schema {
    field "text" {
      type       = "string"
      max_length = 5
    }
    field "drink" {
      type = "string"
      enum = ["cafe\u0301", "the` + "\u0301" + `"]
    }
  }
  deliver {
    to = "sender"
  }
}
test "decomposed is six code points" {
  send = { type = "name", text = "e\u0301e\u0301e\u0301" }
  expect {
    verdict = "reject"
    code    = "invalid_field"
  }
}
test "precomposed is three" {
  send = { type = "name", text = "\u00e9\u00e9\u00e9" }
  expect {
    to = "sender"
  }
}
test "enum as written" {
  send = { type = "name", drink = "cafe\u0301" }
  expect {
    to     = "sender"
    fields = { drink = "cafe\u0301" }
  }
}
test "enum literal accent" {
  send = { "type" = "name", "drink" = "the` + "\u0301" + `" }
  expect {
    to = "sender"
  }
}
test "enum not normalised" {
  send = { type = "name", drink = "caf\u00e9" }
  expect {
    verdict = "reject"
    code    = "invalid_field"
  }
}
`
	s := startServer(t, hcl)
	cfg, err := router.ParseConfig([]byte(hcl), "test.hcl")
	if err != nil {
		t.Fatal(err)
	}
	a := s.dial("alice")
	ran := 0
	for _, tc := range cfg.Tests {
		if tc.Send["type"] != "name" {
			continue // router.hcl's own
		}
		ran++
		if !json.Valid(tc.SendJSON) {
			t.Fatalf("%s: SendJSON %q", tc.Name, tc.SendJSON)
		}
		offline := s.router.Evaluate(context.Background(), "alice", nil, tc.SendJSON)
		code := ""
		if offline.Error != nil {
			code = offline.Error.Code
		}
		if offline.Verdict != tc.Expect.Verdict || code != tc.Expect.Code {
			t.Errorf("%s: offline %s %s, want %s %s", tc.Name, offline.Verdict, code, tc.Expect.Verdict, tc.Expect.Code)
		}
		a.send(string(tc.SendJSON))
		live := a.read()
		liveVerdict := "deliver"
		if live["type"] == "error" {
			liveVerdict = "reject"
		}
		if liveVerdict != tc.Expect.Verdict || tc.Expect.Code != "" && live["code"] != tc.Expect.Code {
			t.Errorf("%s: live %v, want %s %s", tc.Name, live, tc.Expect.Verdict, tc.Expect.Code)
		}
		for k, want := range tc.Expect.Fields {
			if live[k] != want {
				t.Errorf("%s: live %s = %q, want %q", tc.Name, k, live[k], want)
			}
		}
	}
	if ran != 5 {
		t.Fatalf("%d tests ran", ran)
	}
	// The enum holds the code points as written.
	for _, f := range cfg.Route("name").Schema {
		if f.Name == "drink" && (f.Enum[0] != "cafe\u0301" || f.Enum[1] != "the\u0301") {
			t.Fatalf("enum = %+q", f.Enum)
		}
	}
}

// Issue 10 item 1: a number beyond float64's range is Infinity to
// JavaScript and an error to encoding/json, so it is refused (I-JSON, RFC
// 7493 §2.2) at any depth and in the id, with or without a schema, and never
// relayed; numbers that only underflow or round to the largest double pass.
func TestOutOfRangeNumbersRefused(t *testing.T) {
	var calls atomic.Int32
	s := jsonServer(t, &calls)
	a, b := s.dial("alice"), s.dial("bob")
	a.join("r")
	b.join("r")
	a.expect("user_joined")
	big := "1" + strings.Repeat("0", 309)
	for _, tc := range []struct{ msg, num string }{
		{`{"type":"chat","roomId":"r","v":1e999,"w":[-1E+400]}`, "1e999"},
		{`{"type":"chat","roomId":"r","w":[-1E+400]}`, "-1E+400"},
		{`{"type":"chat","roomId":"r","id":1e999}`, "1e999"},
		{`{"type":"chat","roomId":"r","a":{"b":[[0,{"c":1.7976931348623159e308}]]}}`, "1.7976931348623159e308"},
		{`{"type":"chat","roomId":"r","v":` + big + `}`, big},
		{`{"type":"note","roomId":"r","text":"t","v":-2e308}`, "-2e308"},
		{`{"type":"score","n":1e400}`, "1e400"},
	} {
		a.send(tc.msg)
		m := decodeJSON(t, a.rawFrame())
		at := fmt.Sprintf("(at byte %d)", strings.Index(tc.msg, tc.num))
		if m["type"] != "error" || m["code"] != router.CodeInvalidNumber || !strings.HasSuffix(m["message"].(string), at) {
			t.Fatalf("%s: %v, want %s %s", tc.msg, m, router.CodeInvalidNumber, at)
		}
		if _, ok := m["id"]; ok {
			t.Fatalf("%s: the error echoes the id: %v", tc.msg, m)
		}
	}
	// Nothing refused reached bob: his next frame is the next message, and
	// encoding/json decodes it without UseNumber.
	for _, n := range []string{"1.7976931348623157e308", "-1.7976931348623158e308", "1e-999", "-1e-400", "123456789012345678901234567890"} {
		a.send(`{"type":"chat","roomId":"r","v":` + n + `,"w":[` + n + `],"id":` + n + `}`)
		f := b.rawFrame()
		var m map[string]any
		if err := json.Unmarshal(f, &m); err != nil || m["type"] != "chat" {
			t.Fatalf("v = %s: %s (%v)", n, f, err)
		}
		if got := decodeJSON(t, f)["v"]; string(got.(json.Number)) != n {
			t.Fatalf("v = %s delivered as %v", n, got)
		}
		ack := a.rawFrame()
		if err := json.Unmarshal(ack, &m); err != nil || m["type"] != "ack" {
			t.Fatalf("id = %s: ack %s (%v)", n, ack, err)
		}
	}
}

// A plugin's transformed message goes through the same check as a
// client's: what it cannot send, a plugin cannot make.
func TestTransformOutputCheckedLikeFrames(t *testing.T) {
	hcl := defaultHCL(t) + `
plugin "rewrite" {
  native = true
}
route "rw" {
  plugins = [plugin.rewrite]
  deliver {
    to = "sender"
  }
}
`
	rewrite := router.PolicyFunc(func(_ context.Context, m *router.Message) router.Verdict {
		var in struct{ Out string }
		if err := json.Unmarshal(m.Payload, &in); err != nil {
			return router.Verdict{Action: router.Reject, Code: "bad", Reason: err.Error()}
		}
		return router.Verdict{Action: router.Transform, Payload: []byte(in.Out)}
	})
	s := startServer(t, hcl, router.WithPolicy("rewrite", rewrite))
	a := s.dial("alice")
	for _, tc := range []struct{ out, code string }{
		{`{"type":"rw","text":"\ud83d cut"}`, router.CodeBadPayload},
		{`{"type":"rw","text":"a","text":"b"}`, router.CodeBadPayload},
		{`{"type":"rw","v":1e999}`, router.CodeBadPayload},
		{`{"type":"rw","w":[{"x":-1E+400}]}`, router.CodeBadPayload},
		{`{"type":"rw","text":"x\u0007y"}`, ""},
	} {
		b, _ := json.Marshal(map[string]string{"type": "rw", "out": tc.out})
		a.send(string(b))
		m := decodeJSON(t, a.rawFrame())
		if tc.code == "" {
			if m["text"] != "x\ay" {
				t.Fatalf("%s: %v", tc.out, m)
			}
		} else if m["code"] != tc.code {
			t.Fatalf("%s: %v, want %s", tc.out, m, tc.code)
		}
	}
}
