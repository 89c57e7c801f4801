package main

import (
	"encoding/json"
	"testing"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/sdk/sdktest"
)

func TestRedact(t *testing.T) {
	cases := []struct {
		text string
		want string // "" = allowed unchanged
	}{
		{"nothing to hide", ""},
		{"mail alice@example.com today", "mail [email] today"},
		{"Mail: Bob.Smith+news@mail.example.co.uk.", "Mail: [email]."},
		{"two: a@b.io, c_d@e-f.org", "two: [email], [email]"},
		{"call +1 (555) 123-4567 now", "call [phone] now"},
		{"555-123-4567", "[phone]"},
		{"(555) 123 4567 or 555.123.4567", "[phone] or [phone]"},
		{"intl +44 20 7946 0958", "intl [phone]"},
		{"both: x@y.com / 5551234567", "both: [email] / [phone]"},
		{"ünïcode a@b.de ok", "ünïcode [email] ok"},
		{"a handle @alice, a host x@localhost", ""},
		{"no TLD a@b.c", ""},
		{"a date 2024-01-15 and 12:30", ""},
		{"order 1234567 (7 digits)", ""},
		{"a 16-digit card-like 1234 5678 9012 3456", ""},
		{"inside a word abc5551234567", ""},
		{"spaced out 555 - 123 - 4567", ""},
	}
	sdktest.Run(t, ".", nil, func(t *testing.T, p sdktest.Plugin) {
		for _, c := range cases {
			env := []byte(`{"type":"send_message","roomId":"r","text":` + quote(c.text) + `}`)
			v := p.Message(t, &plugins.MessageInput{Envelope: env, Route: "send_message", UserID: "u"})
			if c.want == "" {
				if v.Action != plugins.Allow {
					t.Errorf("%q: got %v %s, want allow", c.text, v.Action, v.Payload)
				}
				continue
			}
			var got struct{ Type, RoomID, Text string }
			if v.Action != plugins.Transform || json.Unmarshal(v.Payload, &got) != nil {
				t.Errorf("%q: got %v %s, want transform", c.text, v.Action, v.Payload)
				continue
			}
			if got.Text != c.want || got.Type != "send_message" || got.RoomID != "r" {
				t.Errorf("%q: delivered %+v, want text %q", c.text, got, c.want)
			}
		}
	})
}

func TestRedactFields(t *testing.T) {
	cfg := map[string]any{"fields": []any{"text", "caption"}}
	sdktest.Run(t, ".", cfg, func(t *testing.T, p sdktest.Plugin) {
		env := `{"type":"photo","text":"a@b.com","caption":"555-123-4567","alt":"c@d.com","text":"dup e@f.com"}`
		want := `{"type":"photo","text":"[email]","caption":"[phone]","alt":"c@d.com","text":"dup [email]"}`
		v := p.Message(t, &plugins.MessageInput{Envelope: []byte(env), Route: "photo"})
		if v.Action != plugins.Transform || string(v.Payload) != want {
			t.Errorf("got %v %s, want %s", v.Action, v.Payload, want)
		}
		if got := p.Counters()["redacted"]; got != 1 {
			t.Errorf("counter redacted = %d, want 1", got)
		}
	})
}

func TestRedactBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"empty list", map[string]any{"fields": []any{}}, "fields: list at least one field"},
		{"empty name", map[string]any{"fields": []any{""}}, `fields: "" cannot be redacted`},
		{"not a list", map[string]any{"fields": "text"}, "config: cannot unmarshal string"},
		{"misspelt key", map[string]any{"feilds": []any{"text"}}, `config: unknown field "feilds"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { sdktest.RejectsConfig(t, ".", c.cfg, c.want) })
	}
}

// quote encodes s as a JSON string for test input.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// BenchmarkRedact measures one call under the real host, with a 100-byte
// envelope.
func BenchmarkRedact(b *testing.B) {
	p := sdktest.Wasm(b, ".", nil)
	for _, c := range []struct{ name, text string }{
		{"allow", "nothing to hide in this message, just words and 2 numbers: 42 and 2024-01-15"},
		{"transform", "mail alice@example.com or call +1 (555) 123-4567 about order 42 today"},
	} {
		in := &plugins.MessageInput{Envelope: []byte(`{"type":"send_message","roomId":"lobby","text":"` + c.text + `"}`), Route: "send_message"}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p.Message(b, in)
			}
		})
	}
}
