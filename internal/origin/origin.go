// Package origin matches the Origin header of a WebSocket upgrade
// (RFC 6454 §7, RFC 6455 §10.2) against server.allowed_origins, and
// implements the default same-origin rule. docs/CONFIG.md describes the
// rules; the router config uses Parse to report bad patterns and the router
// Match and Same to decide.
package origin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Pattern is one allowed_origins entry, parsed: "*", or
// scheme://host[:port] where host may start with "*." and port may be "*".
type Pattern struct {
	any    bool   // "*": every origin, "null" included
	scheme string // "http" or "https"
	host   string // lower case; without the "*." of a subdomain pattern
	sub    bool   // "*.host": any subdomain of host, not host itself
	port   string // digits, "*" for any, or the scheme's default port
}

// Parse reads an allowed_origins entry. Its error says what is wrong in a
// sentence fit for a diagnostic.
func Parse(s string) (Pattern, error) {
	if s == "*" {
		return Pattern{any: true}, nil
	}
	if strings.EqualFold(s, "null") {
		return Pattern{}, errors.New(`"null" is the origin of every sandboxed iframe and file:// page, whatever site it comes from, so allowing it would allow any site; use "*" if any origin is really meant`)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || scheme != "http" && scheme != "https" {
		return Pattern{}, fmt.Errorf(`%q is not an origin: write scheme://host[:port] with scheme http or https, as in "https://app.example.com"`, s)
	}
	if strings.ContainsAny(rest, "/?#@") {
		return Pattern{}, fmt.Errorf(`%q is not an origin: an origin is scheme://host[:port], with no path, query or user`, s)
	}
	p := Pattern{scheme: scheme}
	host := rest
	p.port = defaultPort(scheme)
	if h, port, err := net.SplitHostPort(rest); err == nil {
		host = h
		if port != "*" && !isPort(port) {
			return Pattern{}, fmt.Errorf(`%q has an invalid port %q: write a number from 1 to 65535, or "*" for any port`, s, port)
		}
		p.port = port
	} else if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
		host = rest[1 : len(rest)-1] // IPv6 literal without a port
	}
	host = strings.ToLower(host)
	if h, ok := strings.CutPrefix(host, "*."); ok {
		p.sub, host = true, h
	}
	if host == "" || strings.Contains(host, "*") {
		return Pattern{}, fmt.Errorf(`%q has an invalid host: "*" is allowed only as the whole first label ("https://*.example.com") or as the whole pattern ("*")`, s)
	}
	p.host = host
	return p, nil
}

// Any reports whether the pattern is "*".
func (p Pattern) Any() bool { return p.any }

// Match reports whether an Origin header value matches the pattern.
// Scheme and host compare case-insensitively; a missing port is the
// scheme's default (80, 443); an origin that is not scheme://host[:port]
// ("null" included) matches only "*".
func (p Pattern) Match(origin string) bool {
	if p.any {
		return true
	}
	o, ok := parseOrigin(origin)
	if !ok || o.scheme != p.scheme {
		return false
	}
	if p.port != "*" && o.port != p.port {
		return false
	}
	if p.sub {
		return strings.HasSuffix(o.host, "."+p.host)
	}
	return o.host == p.host
}

// Same reports whether origin is the origin of the server the request was
// sent to: same host and port as the Host header (RFC 9110 §7.2), which a
// browser sets to the address it connected to. Without TLS both http and
// https pages qualify, since a TLS-terminating proxy in front serves https;
// with TLS only https does, since nothing serves plain http there.
func Same(origin, host string, tls bool) bool {
	o, ok := parseOrigin(origin)
	if !ok || tls && o.scheme != "https" {
		return false
	}
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		h, port = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), defaultPort(o.scheme)
	}
	return o.port == port && o.host == strings.ToLower(h)
}

type parsed struct{ scheme, host, port string }

// parseOrigin splits an Origin header value: scheme://host[:port] with
// scheme http or https and nothing else.
func parseOrigin(s string) (parsed, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Host == "" {
		return parsed{}, false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return parsed{}, false
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(scheme)
	} else if !isPort(port) {
		return parsed{}, false
	}
	return parsed{scheme, strings.ToLower(u.Hostname()), port}, true
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 || s[0] == '0' {
		return false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}
