// Command roomacl is a plugin that lets only users with one of the
// configured roles post to rooms whose id starts with a given prefix.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o roomacl.wasm ./examples/plugins/roomacl
package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-rt/switchboard/sdk"
)

// config is the plugin block's config.
type config struct {
	Rules     []rule `json:"rules"`
	RoomField string `json:"room_field"` // the envelope field naming the room; default "roomId"
	Claim     string `json:"claim"`      // the claim listing the user's roles; default "roles"
	// JoinRoutes are the routes whose messages join a room, so that a
	// refusal says "join" rather than "post"; default ["join_room"].
	JoinRoutes []string `json:"join_routes"`
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
		if err := sdk.ConfigStrict(&cfg); err != nil {
			return err
		}
		if cfg.RoomField == "" {
			cfg.RoomField = "roomId"
		}
		if cfg.Claim == "" {
			cfg.Claim = "roles"
		}
		if cfg.JoinRoutes == nil {
			cfg.JoinRoutes = []string{"join_room"}
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
			roles, _ = m.ClaimStrings(cfg.Claim) // a list of strings, or one string
			loaded = true
		}
		if !hasAny(roles, r.Roles) {
			sdk.Count("forbidden", 1)
			if slices.Contains(cfg.JoinRoutes, m.Route()) {
				return sdk.Reject("room_forbidden", "you may not join this room")
			}
			return sdk.Reject("room_forbidden", "you may not post to this room")
		}
	}
	return sdk.Allow()
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

func main() {}
