package main

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/sdk/sdktest"
)

const (
	botKey  = "k-bot-0123456789abcdef"
	noRoles = "k-plain-0123456789abcdef"
)

var keysConfig = map[string]any{
	botKey:  map[string]any{"user": "svc-a", "roles": []any{"bot", "admin"}},
	noRoles: map[string]any{"user": "svc-b"},
}

func TestAPIKey(t *testing.T) {
	cases := []struct {
		name   string
		header http.Header
		query  url.Values
		user   string   // accepted as; "" = rejected, or passed on when code is ""
		roles  []string // accepted: the roles claim
		code   string   // rejected: the code
	}{
		{"header", http.Header{"X-Api-Key": {botKey}}, nil, "svc-a", []string{"bot", "admin"}, ""},
		{"query", nil, url.Values{"api_key": {botKey}}, "svc-a", []string{"bot", "admin"}, ""},
		{"no roles", http.Header{"X-Api-Key": {noRoles}}, nil, "svc-b", []string{}, ""},
		{"header wins over query", http.Header{"X-Api-Key": {noRoles}}, url.Values{"api_key": {botKey}}, "svc-b", []string{}, ""},
		{"unknown key", http.Header{"X-Api-Key": {"k-guess-0123456789abcdef"}}, nil, "", nil, "bad_api_key"},
		{"key prefix", http.Header{"X-Api-Key": {botKey[:len(botKey)-1]}}, nil, "", nil, "bad_api_key"},
		{"unknown key in query", nil, url.Values{"api_key": {"nope"}}, "", nil, "bad_api_key"},
		{"no key: passed on to the JWT", nil, nil, "", nil, ""},
		{"other header: passed on", http.Header{"Authorization": {"Bearer " + botKey}}, nil, "", nil, ""},
	}
	sdktest.Run(t, ".", map[string]any{"keys": keysConfig}, func(t *testing.T, p sdktest.Plugin) {
		for _, c := range cases {
			v := p.Connect(t, &plugins.ConnectInput{Method: "GET", Path: "/ws", RemoteAddr: "127.0.0.1:1", Header: c.header, Query: c.query})
			if c.user == "" && c.code == "" {
				if !v.Accept || v.UserID != "" {
					t.Errorf("%s: got %+v, want a pass (accept without a user)", c.name, v)
				}
				continue
			}
			if c.user == "" {
				if v.Accept || v.Code != c.code {
					t.Errorf("%s: got %+v, want rejected with %s", c.name, v, c.code)
				}
				continue
			}
			if !v.Accept || v.UserID != c.user || !reflect.DeepEqual(roles(v.Claims), c.roles) {
				t.Errorf("%s: got %+v, want %s with roles %q", c.name, v, c.user, c.roles)
			}
		}
		if got := p.Counters(); got["bad"] != 3 || got["missing"] != 2 {
			t.Errorf("counters %v, want bad 3, missing 2", got)
		}
	})
}

func TestAPIKeyConfig(t *testing.T) {
	cfg := map[string]any{"keys": keysConfig, "header": "x-service-key", "query": "", "required": true}
	sdktest.Run(t, ".", cfg, func(t *testing.T, p sdktest.Plugin) {
		v := p.Connect(t, &plugins.ConnectInput{Header: http.Header{"X-Service-Key": {botKey}}})
		if !v.Accept || v.UserID != "svc-a" {
			t.Errorf("header x-service-key: got %+v", v)
		}
		v = p.Connect(t, &plugins.ConnectInput{Query: url.Values{"api_key": {botKey}}})
		if v.Accept || v.Code != "missing_api_key" || !strings.Contains(v.Reason, "x-service-key header") {
			t.Errorf(`query = "": got %+v, want missing_api_key`, v)
		}
	})
}

func TestAPIKeyBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"no keys", nil, "keys: give at least one key"},
		{"short key", map[string]any{"keys": map[string]any{"secret": map[string]any{"user": "svc-a"}}},
			`keys: the key of user "svc-a" is 6 bytes; use at least 16`},
		{"no user", map[string]any{"keys": map[string]any{botKey: map[string]any{"roles": []any{"bot"}}}}, "keys: a key of 22 bytes has no user"},
		{"empty role", map[string]any{"keys": map[string]any{botKey: map[string]any{"user": "a", "roles": []any{""}}}}, `the key of user "a" has an empty role`},
		{"nowhere to look", map[string]any{"keys": keysConfig, "header": "", "query": ""}, `header and query are both ""`},
		{"keys not an object", map[string]any{"keys": []any{botKey}}, "config: cannot unmarshal array"},
		{"misspelt key", map[string]any{"keys": keysConfig, "headers": "X-Key"}, `config: unknown field "headers"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { sdktest.RejectsConfig(t, ".", c.cfg, c.want) })
	}
}

// roles returns the roles claim as strings.
func roles(claims map[string]any) []string {
	list, ok := claims["roles"].([]any)
	if !ok {
		return nil
	}
	out := []string{}
	for _, r := range list {
		out = append(out, fmt.Sprint(r))
	}
	return out
}
