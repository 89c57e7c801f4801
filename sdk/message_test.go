package sdk

import (
	"strings"
	"testing"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

func message(env string) *Message {
	in := make([]byte, abi.MessageSize(len(env), 4, 2, 16, 0, 0))
	abi.PutMessage(in, []byte(env), "send", "u1", []byte(`{"role":"admin"}`), "", "")
	m, ok := abi.ParseMessage(in)
	if !ok {
		panic("ParseMessage")
	}
	var msg Message
	msg.reset(m)
	return &msg
}

func TestMessageFields(t *testing.T) {
	m := message(` { "type" : "send", "n": -1.5e2, "ok": true, "nested": {"a": {"b": "deep"}, "s": "x}"},
		"arr": [1, {"text": "decoy"}, "]"], "esc": "a\"b\\c\u00e9\ud83d\ude00", "text": "hello", "t\u0065xt2": "k" }`)
	strs := []struct {
		path []string
		want string
		ok   bool
	}{
		{[]string{"type"}, "send", true},
		{[]string{"text"}, "hello", true}, // not the decoy inside arr
		{[]string{"esc"}, "a\"b\\cé😀", true},
		{[]string{"nested", "a", "b"}, "deep", true},
		{[]string{"nested", "s"}, "x}", true},
		{[]string{"text2"}, "k", true}, // escaped key
		{[]string{"n"}, "", false},     // not a string
		{[]string{"missing"}, "", false},
		{[]string{"type", "x"}, "", false},
	}
	for _, c := range strs {
		if got, ok := m.String(c.path...); got != c.want || ok != c.ok {
			t.Errorf("String(%q) = %q, %v; want %q, %v", c.path, got, ok, c.want, c.ok)
		}
	}
	if n, ok := m.Number("n"); n != -150 || !ok {
		t.Errorf("Number = %v, %v", n, ok)
	}
	if b, ok := m.Bool("ok"); !b || !ok {
		t.Errorf("Bool = %v, %v", b, ok)
	}
	if r := string(m.Raw("arr")); r != `[1, {"text": "decoy"}, "]"]` {
		t.Errorf("Raw(arr) = %s", r)
	}
	if r, ok := m.Claim("role"); r != "admin" || !ok {
		t.Errorf("Claim = %q", r)
	}
	if m.Route() != "send" || m.UserID() != "u1" {
		t.Errorf("Route, UserID = %q, %q", m.Route(), m.UserID())
	}
}

func TestMessageMalformed(t *testing.T) {
	for _, env := range []string{``, `[]`, `{`, `{"a"`, `{"a":`, `{"a":"x`, `{"a":1,}`, `{"text":"\q"}`, `{"a":{"text":"x"}`, `{"text":"\u12"}`} {
		m := message(env)
		if s, ok := m.String("text"); ok {
			t.Errorf("%s: String(text) = %q, want not found", env, s)
		}
	}
}

func TestMessageNoAllocs(t *testing.T) {
	m := message(`{"type":"send_message","roomId":"general","text":"hello there https://example.com"}`)
	allocs := testing.AllocsPerRun(100, func() {
		if s, _ := m.String("text"); len(s) == 0 {
			t.Fatal("no text")
		}
		m.Number("x")
	})
	if allocs != 0 {
		t.Errorf("%v allocations per field access, want 0", allocs)
	}
}

func TestWriteVerdict(t *testing.T) {
	out := make([]byte, 16)
	cases := []struct {
		v       Verdict
		want    uint64
		written string
	}{
		{Allow(), abi.Pack(abi.Allow, 0, 0), ""},
		{Drop(), abi.Pack(abi.Drop, 0, 0), ""},
		{Reject("code", "why"), abi.Pack(abi.Reject, 4, 7), "codewhy"},
		{Transform([]byte(`{"a":1}`)), abi.Pack(abi.Transform, 0, 7), `{"a":1}`},
		{Reroute("sender"), abi.Pack(abi.Reroute, 0, 6), "sender"},
		{Transform(make([]byte, 17)), abi.Pack(abi.Transform, 0, 17), ""}, // too big: reported, not written
	}
	for _, c := range cases {
		clear(out)
		if got := writeVerdict(c.v, out); got != c.want || string(out[:len(c.written)]) != c.written {
			t.Errorf("%+v: got %#x %q, want %#x %q", c.v, got, out, c.want, c.written)
		}
	}
}

func TestCanonicalHeader(t *testing.T) {
	for in, want := range map[string]string{"x-api-key": "X-Api-Key", "AUTHORIZATION": "Authorization", "sec-websocket-protocol": "Sec-Websocket-Protocol"} {
		if got := canonicalHeader(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}

func BenchmarkString(b *testing.B) {
	m := message(`{"type":"send_message","roomId":"general","text":"hello there https://example.com"}`)
	for b.Loop() {
		m.String("text")
	}
}

func TestClaimStrings(t *testing.T) {
	claims := `{"roles":["admin",1,"b\u00e9ta",null,"x"],"role":"solo","n":2,"obj":{"roles":["no"]},"empty":[],"esc":"a\"b"}`
	env := `{"type":"m"}`
	in := make([]byte, abi.MessageSize(len(env), 1, 1, len(claims), 0, 0))
	abi.PutMessage(in, []byte(env), "m", "u", []byte(claims), "", "")
	pm, _ := abi.ParseMessage(in)
	var m Message
	m.reset(pm)
	cases := []struct {
		name string
		want []string
		ok   bool
	}{
		{"roles", []string{"admin", "béta", "x"}, true}, // non-strings skipped
		{"role", []string{"solo"}, true},                // a lone string
		{"esc", []string{`a"b`}, true},
		{"empty", []string{}, true},
		{"n", nil, false},
		{"obj", nil, false},
		{"missing", nil, false},
	}
	for _, c := range cases {
		got, ok := m.ClaimStrings(c.name)
		if ok != c.ok || (got == nil) != (c.want == nil) || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("ClaimStrings(%q) = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	// No claims at all.
	if got, ok := message(`{}`).ClaimStrings("roles"); got != nil || ok {
		t.Errorf("ClaimStrings without the claim = %q, %v", got, ok)
	}
}
