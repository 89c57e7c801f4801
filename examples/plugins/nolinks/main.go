// Command nolinks is a plugin that rejects messages whose text links to a
// host outside the allow-list in its config.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o nolinks.wasm ./examples/plugins/nolinks
package main

import (
	"errors"
	"strings"

	"github.com/switchboard-rt/switchboard/sdk"
)

// config is the plugin block's config.
type config struct {
	Allow []string `json:"allow"` // hosts allowed in links, with their subdomains
	Field string   `json:"field"` // the field to check; default "text"
}

var cfg config

func init() {
	sdk.HandleInit(func() error {
		cfg = config{}
		if err := sdk.Config(&cfg); err != nil {
			return err
		}
		for i, h := range cfg.Allow {
			if h == "" || strings.ContainsAny(h, "/: ") {
				return errors.New("allow: each entry must be a host name such as \"example.com\"")
			}
			cfg.Allow[i] = strings.ToLower(h)
		}
		if cfg.Field == "" {
			cfg.Field = "text"
		}
		return nil
	})
	sdk.HandleMessage(check)
}

func check(m *sdk.Message) sdk.Verdict {
	text, _ := m.String(cfg.Field)
	for {
		host, rest, found := nextLink(text)
		if !found {
			return sdk.Allow()
		}
		if !allowed(host) {
			return sdk.Reject("link_not_allowed", "links to this site are not allowed")
		}
		text = rest
	}
}

// nextLink finds the next http://, https:// or www. link in s and returns its
// host and the text after it.
func nextLink(s string) (host, rest string, found bool) {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // ASCII lower case
		if c != 'h' && c != 'w' {
			continue
		}
		var start int
		switch {
		case hasPrefixFold(s[i:], "https://"):
			start = i + len("https://")
		case hasPrefixFold(s[i:], "http://"):
			start = i + len("http://")
		case hasPrefixFold(s[i:], "www.") && (i == 0 || !isHostByte(s[i-1])):
			start = i
		default:
			continue
		}
		end := start
		for end < len(s) && isHostByte(s[end]) {
			end++
		}
		return s[start:end], s[end:], true
	}
	return "", "", false
}

func allowed(host string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, a := range cfg.Allow {
		if len(host) == len(a) && strings.EqualFold(host, a) {
			return true
		}
		if len(host) > len(a) && host[len(host)-len(a)-1] == '.' && strings.EqualFold(host[len(host)-len(a):], a) {
			return true
		}
	}
	return false
}

func isHostByte(c byte) bool {
	return c == '-' || c == '.' || '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func main() {}
