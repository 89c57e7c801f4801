package main

import (
	"testing"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/sdk/sdktest"
)

func TestNoLinks(t *testing.T) {
	cases := []struct {
		text string
		want plugins.Action
	}{
		{"no links here", plugins.Allow},
		{"docs at https://example.com/docs", plugins.Allow},
		{"sub-domain https://docs.Example.COM/x ok", plugins.Allow},
		{"www.example.com is fine", plugins.Allow},
		{"evil http://evil.com", plugins.Reject},
		{"look-alike https://notexample.com", plugins.Reject},
		{"suffix trick https://example.com.evil.net/", plugins.Reject},
		{"bare www.evil.org", plugins.Reject},
		{"second link https://example.com then HTTP://EVIL.COM", plugins.Reject},
		{`escaped https:\/\/evil.com`, plugins.Reject},
	}
	sdktest.Run(t, ".", map[string]any{"allow": []any{"example.com"}}, func(t *testing.T, p sdktest.Plugin) {
		for _, c := range cases {
			env := []byte(`{"type":"send_message","roomId":"r","text":` + quote(c.text) + `}`)
			v := p.Message(t, &plugins.MessageInput{Envelope: env, Route: "send_message", UserID: "u"})
			if v.Action != c.want {
				t.Errorf("%q: got %v, want %v", c.text, v.Action, c.want)
			}
			if v.Action == plugins.Reject && v.Code != "link_not_allowed" {
				t.Errorf("%q: code %q", c.text, v.Code)
			}
		}
	})
}

func TestNoLinksConfig(t *testing.T) {
	sdktest.Run(t, ".", map[string]any{"allow": []any{"example.com"}, "field": "caption"}, func(t *testing.T, p sdktest.Plugin) {
		env := []byte(`{"type":"photo","text":"http://evil.com","caption":"http://evil.com"}`)
		if v := p.Message(t, &plugins.MessageInput{Envelope: env, Route: "photo"}); v.Action != plugins.Reject {
			t.Errorf("field = caption: got %v", v.Action)
		}
	})
}

// quote is a minimal JSON string encoder for test input (escapes \ and ").
func quote(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}
