package main

import (
	"strings"
	"testing"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/sdk/sdktest"
)

func TestSanitize(t *testing.T) {
	cases := []struct {
		name string
		env  string
		want string // the envelope delivered; "" = allowed unchanged
	}{
		{"plain text", `{"type":"send_message","roomId":"r","text":"hello, world"}`, ""},
		{"script", `{"type":"send_message","roomId":"r","text":"<script>alert(1)</script>"}`,
			`{"type":"send_message","roomId":"r","text":"&lt;script&gt;alert(1)&lt;/script&gt;"}`},
		{"attribute breakout", `{"type":"m","text":"\" onmouseover='x()' & more"}`,
			`{"type":"m","text":"&#34; onmouseover=&#39;x()&#39; &amp; more"}`},
		{"JSON-escaped markup", `{"type":"m","text":"\u003cimg src=x onerror=y\u003e"}`,
			`{"type":"m","text":"&lt;img src=x onerror=y&gt;"}`},
		{"already escaped is escaped again", `{"type":"m","text":"&lt;b&gt;"}`, `{"type":"m","text":"&amp;lt;b&amp;gt;"}`},
		{"escapes kept", `{"type":"m","text":"<b>\n\"\\\u0001"}`, `{"type":"m","text":"&lt;b&gt;\n&#34;\\\u0001"}`},
		{"other fields untouched", `{"type":"m","roomId":"<r>","text":"ok"}`, ""},
		{"not a string", `{"type":"m","text":{"html":"<b>"}}`, ""},
		{"missing", `{"type":"m"}`, ""},
		{"duplicate keys, both escaped", `{"type":"m","text":"ok","text":"<svg onload=x>"}`,
			`{"type":"m","text":"ok","text":"&lt;svg onload=x&gt;"}`},
		{"escaped key", `{"type":"m","te\u0078t":"<i>"}`, `{"type":"m","te\u0078t":"&lt;i&gt;"}`},
		{"spaces and nesting", `{ "type" : "m" , "meta" : {"text":"<x>","a":[1,"]"]} , "text" : "<b>" }`,
			`{ "type" : "m" , "meta" : {"text":"<x>","a":[1,"]"]} , "text" : "&lt;b&gt;" }`},
	}
	sdktest.Run(t, ".", nil, func(t *testing.T, p sdktest.Plugin) {
		for _, c := range cases {
			v := p.Message(t, &plugins.MessageInput{Envelope: []byte(c.env), Route: "m", UserID: "u"})
			switch {
			case c.want == "" && v.Action != plugins.Allow:
				t.Errorf("%s: got %v %s, want allow", c.name, v.Action, v.Payload)
			case c.want != "" && (v.Action != plugins.Transform || string(v.Payload) != c.want):
				t.Errorf("%s: got %v %s\nwant transform %s", c.name, v.Action, v.Payload, c.want)
			}
		}
		if got := p.Counters()["sanitized"]; got != 8 {
			t.Errorf("counter sanitized = %d, want 8", got)
		}
	})
}

func TestSanitizeFields(t *testing.T) {
	cfg := map[string]any{"fields": []any{"caption", "title"}}
	sdktest.Run(t, ".", cfg, func(t *testing.T, p sdktest.Plugin) {
		env := `{"type":"photo","text":"<a>","caption":"<b>","title":"ok"}`
		want := `{"type":"photo","text":"<a>","caption":"&lt;b&gt;","title":"ok"}`
		v := p.Message(t, &plugins.MessageInput{Envelope: []byte(env), Route: "photo"})
		if v.Action != plugins.Transform || string(v.Payload) != want {
			t.Errorf("got %v %s, want %s", v.Action, v.Payload, want)
		}
	})
}

func TestSanitizeBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"empty list", map[string]any{"fields": []any{}}, "fields: list at least one field"},
		{"empty name", map[string]any{"fields": []any{""}}, `fields: "" cannot be sanitized`},
		{"type", map[string]any{"fields": []any{"type"}}, `fields: "type" cannot be sanitized`},
		{"not a list", map[string]any{"fields": "text"}, "config: cannot unmarshal string"},
		{"misspelt key", map[string]any{"field": []any{"text"}}, `config: unknown field "field"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { sdktest.RejectsConfig(t, ".", c.cfg, c.want) })
	}
}

// BenchmarkSanitize measures one call under the real host, with a
// 100-byte envelope.
func BenchmarkSanitize(b *testing.B) {
	p := sdktest.Wasm(b, ".", nil)
	for _, c := range []struct{ name, text string }{
		{"allow", "nothing to escape in this message, just plain words and numbers 42"},
		{"transform", "a <b>bold</b> claim & a 'quote' in this message, 4 > 3 and 2 < 3"},
	} {
		in := &plugins.MessageInput{Envelope: []byte(`{"type":"send_message","roomId":"lobby","text":"` + c.text + `"}`), Route: "send_message"}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p.Message(b, in)
			}
		})
	}
}

// TestSanitizeGrowsOutput: escaping 30000 '<' gives 120000 bytes, more than
// the SDK's 64 KiB output buffer: the SDK grows it and records it in its
// descriptor (plugins/ABI.md, "Output larger than out_cap"), natively and
// under the host.
func TestSanitizeGrowsOutput(t *testing.T) {
	env := `{"type":"m","text":"` + strings.Repeat("<", 30000) + `"}`
	want := `{"type":"m","text":"` + strings.Repeat("&lt;", 30000) + `"}`
	sdktest.Run(t, ".", nil, func(t *testing.T, p sdktest.Plugin) {
		for range 2 {
			v := p.Message(t, &plugins.MessageInput{Envelope: []byte(env), Route: "m", UserID: "u"})
			if v.Action != plugins.Transform || string(v.Payload) != want {
				t.Fatalf("got %v, %d bytes; want a transform of %d bytes", v.Action, len(v.Payload), len(want))
			}
		}
	})
}
