// Command apikey is a connect-phase plugin that authenticates clients by
// an API key sent in a header or a query parameter, and gives them the user
// id and roles the key has in its config.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o apikey.wasm ./examples/plugins/apikey
package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"

	"github.com/switchboard-rt/switchboard/sdk"
)

// config is the plugin block's config.
type config struct {
	Header *string        `json:"header"` // default "X-API-Key"; "" turns headers off
	Query  *string        `json:"query"`  // default "api_key"; "" turns the query parameter off
	Keys   map[string]key `json:"keys"`   // API key → identity
	// Required refuses requests without a key. By default they pass on to
	// the JWT check, so services use keys and browsers tokens.
	Required bool `json:"required"`
}

// key is the identity an API key stands for.
type key struct {
	User  string   `json:"user"`
	Roles []string `json:"roles"`
}

// minKeyLen keeps guessable keys out of the config.
const minKeyLen = 16

var (
	header, query string
	required      bool
	// keys is indexed by the SHA-256 of each key, so looking a key up takes
	// the same time however much of it a guess gets right.
	keys map[[sha256.Size]byte]key
)

func init() {
	sdk.HandleInit(func() error {
		var cfg config
		if err := sdk.ConfigStrict(&cfg); err != nil {
			return err
		}
		header, query = orDefault(cfg.Header, "X-API-Key"), orDefault(cfg.Query, "api_key")
		required = cfg.Required
		if header == "" && query == "" {
			return errors.New(`header and query are both "": the plugin would find no key`)
		}
		if len(cfg.Keys) == 0 {
			return errors.New(`keys: give at least one key, e.g. keys = { "<key>" = { user = "svc-a", roles = ["bot"] } }`)
		}
		keys = make(map[[sha256.Size]byte]key, len(cfg.Keys))
		for _, k := range sortedKeys(cfg.Keys) { // errors name the user, never the key
			id := cfg.Keys[k]
			if id.User == "" {
				return fmt.Errorf("keys: a key of %d bytes has no user; give it user = \"...\"", len(k))
			}
			if len(k) < minKeyLen {
				return fmt.Errorf("keys: the key of user %q is %d bytes; use at least %d random characters (openssl rand -hex 16)", id.User, len(k), minKeyLen)
			}
			for _, r := range id.Roles {
				if r == "" {
					return fmt.Errorf("keys: the key of user %q has an empty role", id.User)
				}
			}
			if id.Roles == nil {
				id.Roles = []string{}
			}
			keys[sha256.Sum256([]byte(k))] = id
		}
		return nil
	})
	sdk.HandleConnect(authenticate)
}

func authenticate(c *sdk.Connect) sdk.ConnectVerdict {
	var k string
	if header != "" {
		k = c.Header(header)
	}
	if k == "" && query != "" {
		k = c.Query(query)
	}
	if k == "" {
		sdk.Count("missing", 1)
		if !required {
			return sdk.Pass()
		}
		return sdk.Deny("missing_api_key", "send an API key"+where())
	}
	id, ok := keys[sha256.Sum256([]byte(k))]
	if !ok {
		sdk.Count("bad", 1)
		return sdk.Deny("bad_api_key", "unknown API key")
	}
	return sdk.Accept(id.User, map[string]any{"roles": id.Roles})
}

// where says where the plugin looks for a key, for the missing key reason.
func where() string {
	switch {
	case header == "":
		return " in the query parameter " + query
	case query == "":
		return " in the " + header + " header"
	}
	return " in the " + header + " header or the query parameter " + query
}

func orDefault(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func sortedKeys(m map[string]key) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func main() {}
