// Command roomacl is a plugin that lets only users with one of the
// configured roles post to rooms whose id starts with a given prefix.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o roomacl.wasm ./examples/plugins/roomacl
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
	Rules     []rule `json:"rules"`
	RoomField string `json:"room_field"` // the envelope field naming the room; default "roomId"
	Claim     string `json:"claim"`      // the claim listing the user's roles; default "roles"
}

// rule restricts the rooms whose id starts with Prefix to users with at
// least one of Roles.
type rule struct {
	Prefix string   `json:"prefix"`
	Roles  []string `json:"roles"`
}

var cfg config

func init() {
	sdk.HandleInit(func() error {
		cfg = config{}
		if err := decodeConfig(&cfg); err != nil {
			return err
		}
		if cfg.RoomField == "" {
			cfg.RoomField = "roomId"
		}
		if cfg.Claim == "" {
			cfg.Claim = "roles"
		}
		if len(cfg.Rules) == 0 {
			return errors.New(`rules: give at least one rule, e.g. rules = [{ prefix = "admin:", roles = ["admin"] }]`)
		}
		for i, r := range cfg.Rules {
			if r.Prefix == "" {
				return fmt.Errorf("rules[%d]: prefix is empty; a rule for every room is a route without this plugin", i)
			}
			if len(r.Roles) == 0 {
				return fmt.Errorf("rules[%d] (prefix %q): roles is empty; list the roles that may post there", i, r.Prefix)
			}
			for _, role := range r.Roles {
				if role == "" {
					return fmt.Errorf("rules[%d] (prefix %q): a role is empty", i, r.Prefix)
				}
			}
		}
		return nil
	})
	sdk.HandleMessage(check)
}

func check(m *sdk.Message) sdk.Verdict {
	room, ok := m.String(cfg.RoomField)
	if !ok {
		// Fail closed: a route with this plugin names a room.
		return sdk.Reject("room_forbidden", "the message has no "+cfg.RoomField)
	}
	var roles []string
	loaded := false
	for _, r := range cfg.Rules { // every rule that matches must be met
		if !strings.HasPrefix(room, r.Prefix) {
			continue
		}
		if !loaded {
			roles, loaded = userRoles(m.Claims()), true
		}
		if !hasAny(roles, r.Roles) {
			sdk.Count("forbidden", 1)
			return sdk.Reject("room_forbidden", "you may not post to this room")
		}
	}
	return sdk.Allow()
}

// userRoles reads the roles claim: a list of strings, or one string. It
// decodes the claims with encoding/json, which costs microseconds, so it
// runs only for rooms a rule covers.
func userRoles(claims []byte) []string {
	var all map[string]any
	if len(claims) == 0 || json.Unmarshal(claims, &all) != nil {
		return nil
	}
	switch v := all[cfg.Claim].(type) {
	case string:
		return []string{v}
	case []any:
		roles := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				roles = append(roles, s)
			}
		}
		return roles
	}
	return nil
}

func hasAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
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

func main() {}
