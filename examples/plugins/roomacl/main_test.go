package main

import (
	"testing"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/sdk/sdktest"
)

var rules = []any{
	map[string]any{"prefix": "admin:", "roles": []any{"admin"}},
	map[string]any{"prefix": "staff:", "roles": []any{"staff", "admin"}},
	map[string]any{"prefix": "staff:payroll", "roles": []any{"hr"}},
}

func TestRoomACL(t *testing.T) {
	cases := []struct {
		name   string
		env    string
		claims string
		want   plugins.Action
	}{
		{"open room", `{"type":"send_message","roomId":"lobby","text":"hi"}`, ``, plugins.Allow},
		{"admin room, admin", `{"type":"send_message","roomId":"admin:ops","text":"hi"}`, `{"roles":["bot","admin"]}`, plugins.Allow},
		{"admin room, no claims", `{"type":"send_message","roomId":"admin:ops","text":"hi"}`, ``, plugins.Reject},
		{"admin room, other role", `{"type":"send_message","roomId":"admin:ops","text":"hi"}`, `{"roles":["staff"]}`, plugins.Reject},
		{"admin room, role as a string", `{"type":"send_message","roomId":"admin:ops"}`, `{"roles":"admin"}`, plugins.Allow},
		{"admin room, role elsewhere", `{"type":"send_message","roomId":"admin:ops"}`, `{"role":"admin","groups":["admin"]}`, plugins.Reject},
		{"prefix is case-sensitive", `{"type":"send_message","roomId":"Admin:ops"}`, ``, plugins.Allow},
		{"second role of a rule", `{"type":"send_message","roomId":"staff:lunch"}`, `{"roles":["admin"]}`, plugins.Allow},
		{"nested rules all apply", `{"type":"send_message","roomId":"staff:payroll"}`, `{"roles":["staff"]}`, plugins.Reject},
		{"nested rules all met", `{"type":"send_message","roomId":"staff:payroll"}`, `{"roles":["staff","hr"]}`, plugins.Allow},
		{"escaped room id", `{"type":"send_message","roomId":"\u0061dmin:ops"}`, ``, plugins.Reject},
		{"no room", `{"type":"send_message","text":"hi"}`, `{"roles":["admin"]}`, plugins.Reject},
		{"room not a string", `{"type":"send_message","roomId":7}`, `{"roles":["admin"]}`, plugins.Reject},
	}
	sdktest.Run(t, ".", map[string]any{"rules": rules}, func(t *testing.T, p sdktest.Plugin) {
		for _, c := range cases {
			in := &plugins.MessageInput{Envelope: []byte(c.env), Route: "send_message", UserID: "u"}
			if c.claims != "" {
				in.Claims = []byte(c.claims)
			}
			v := p.Message(t, in)
			if v.Action != c.want {
				t.Errorf("%s: got %v (%s), want %v", c.name, v.Action, v.Reason, c.want)
			}
			if v.Action == plugins.Reject && v.Code != "room_forbidden" {
				t.Errorf("%s: code %q, want room_forbidden", c.name, v.Code)
			}
		}
	})
}

// TestRoomACLJoin: a refused join says it is a join, a refused message
// that it is a post; join_routes names the join routes.
func TestRoomACLJoin(t *testing.T) {
	for _, c := range []struct {
		cfg         map[string]any
		route, want string
	}{
		{map[string]any{"rules": rules}, "join_room", "you may not join this room"},
		{map[string]any{"rules": rules}, "send_message", "you may not post to this room"},
		{map[string]any{"rules": rules, "join_routes": []any{"enter"}}, "enter", "you may not join this room"},
		{map[string]any{"rules": rules, "join_routes": []any{"enter"}}, "join_room", "you may not post to this room"},
	} {
		sdktest.Run(t, ".", c.cfg, func(t *testing.T, p sdktest.Plugin) {
			env := `{"type":"` + c.route + `","roomId":"admin:ops"}`
			v := p.Message(t, &plugins.MessageInput{Envelope: []byte(env), Route: c.route, UserID: "u"})
			if v.Action != plugins.Reject || v.Code != "room_forbidden" || v.Reason != c.want {
				t.Errorf("%s: got %+v, want reject room_forbidden %q", c.route, v, c.want)
			}
		})
	}
}

func TestRoomACLConfig(t *testing.T) {
	cfg := map[string]any{"rules": rules, "room_field": "channel", "claim": "groups"}
	sdktest.Run(t, ".", cfg, func(t *testing.T, p sdktest.Plugin) {
		for _, c := range []struct {
			env, claims string
			want        plugins.Action
		}{
			{`{"type":"post","channel":"admin:x","roomId":"lobby"}`, `{"roles":["admin"]}`, plugins.Reject},
			{`{"type":"post","channel":"admin:x"}`, `{"groups":["admin"]}`, plugins.Allow},
			{`{"type":"post","roomId":"admin:x","channel":"lobby"}`, ``, plugins.Allow},
		} {
			v := p.Message(t, &plugins.MessageInput{Envelope: []byte(c.env), Route: "post", Claims: []byte(c.claims)})
			if v.Action != c.want {
				t.Errorf("%s %s: got %v, want %v", c.env, c.claims, v.Action, c.want)
			}
		}
	})
}

func TestRoomACLBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"no rules", nil, "rules: give at least one rule"},
		{"empty prefix", map[string]any{"rules": []any{map[string]any{"prefix": "", "roles": []any{"a"}}}}, "rules[0]: prefix is empty"},
		{"no roles", map[string]any{"rules": []any{map[string]any{"prefix": "a:"}}}, `rules[0] (prefix "a:"): roles is empty`},
		{"empty role", map[string]any{"rules": []any{map[string]any{"prefix": "a:", "roles": []any{""}}}}, "a role is empty"},
		{"rules not a list", map[string]any{"rules": map[string]any{"prefix": "a:"}}, "config: cannot unmarshal object"},
		{"misspelt key", map[string]any{"rules": rules, "roomfield": "x"}, `config: unknown field "roomfield"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { sdktest.RejectsConfig(t, ".", c.cfg, c.want) })
	}
}
