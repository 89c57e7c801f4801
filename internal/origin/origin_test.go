package origin

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, origin string
		want            bool
	}{
		{"*", "https://any.example", true},
		{"*", "null", true},
		{"https://app.example.com", "https://app.example.com", true},
		{"https://app.example.com", "HTTPS://APP.Example.COM", true}, // case
		{"https://APP.example.com", "https://app.example.com", true},
		{"https://app.example.com", "http://app.example.com", false}, // scheme
		{"https://app.example.com", "https://app.example.com:443", true},
		{"https://app.example.com:443", "https://app.example.com", true}, // default port
		{"http://app.example.com:80", "http://app.example.com", true},
		{"https://app.example.com", "https://app.example.com:8443", false},
		{"https://app.example.com", "https://evil.app.example.com", false},
		{"https://app.example.com", "https://app.example.com.evil", false},
		{"https://app.example.com", "https://app.example.com/", false}, // not an origin
		{"https://app.example.com", "https://u@app.example.com", false},
		{"https://app.example.com", "null", false},
		{"https://*.example.com", "https://a.example.com", true},
		{"https://*.example.com", "https://a.b.example.com", true},
		{"https://*.example.com", "https://example.com", false},
		{"https://*.example.com", "https://aexample.com", false},
		{"https://*.example.com", "http://a.example.com", false},
		{"http://127.0.0.1:*", "http://127.0.0.1:9000", true},
		{"http://127.0.0.1:*", "http://127.0.0.1", true},
		{"http://127.0.0.1:*", "http://127.0.0.2:9000", false},
		{"http://127.0.0.1:*", "https://127.0.0.1:9000", false},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"http://[::1]", "http://[::1]:80", true},
		{"http://[::1]:*", "http://[::1]:1234", true},
		{"http://localhost:8080", "http://localhost:8080", true},
		{"http://localhost:8080", "http://localhost:08080", false},
		{"http://localhost:8080", "chrome-extension://abc", false},
	}
	for _, tc := range cases {
		p, err := Parse(tc.pattern)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.pattern, err)
		}
		if got := p.Match(tc.origin); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.origin, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for pattern, want := range map[string]string{
		"null":                      `"null" is the origin of every sandboxed iframe`,
		"app.example.com":           "is not an origin",
		"ftp://app.example.com":     "is not an origin",
		"https://app.example.com/":  "no path",
		"https://a.*.example.com":   "invalid host",
		"https://*":                 "invalid host",
		"*.example.com":             "is not an origin",
		"https://example.com:0":     "invalid port",
		"https://example.com:99999": "invalid port",
		"https://example.com:x":     "invalid port",
		"https://":                  "invalid host",
	} {
		_, err := Parse(pattern)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", pattern, err, want)
		}
	}
}

func TestSame(t *testing.T) {
	cases := []struct {
		origin, host string
		tls          bool
		want         bool
	}{
		{"http://127.0.0.1:9000", "127.0.0.1:9000", false, true},
		{"http://localhost:9000", "localhost:9000", false, true},
		{"http://LOCALHOST:9000", "localhost:9000", false, true},
		{"http://localhost:9000", "127.0.0.1:9000", false, false}, // another origin
		{"http://localhost:9001", "localhost:9000", false, false},
		{"https://chat.example.com", "chat.example.com", false, true}, // TLS-terminating proxy
		{"http://chat.example.com", "chat.example.com", false, true},
		{"http://chat.example.com:80", "chat.example.com", false, true},
		{"https://chat.example.com", "chat.example.com:443", true, true},
		{"http://chat.example.com:443", "chat.example.com:443", true, false}, // TLS: https only
		{"http://[::1]:9000", "[::1]:9000", false, true},
		{"https://evil.example", "127.0.0.1:9000", false, false},
		{"null", "127.0.0.1:9000", false, false},
		{"http://127.0.0.1:9000/x", "127.0.0.1:9000", false, false},
	}
	for _, tc := range cases {
		if got := Same(tc.origin, tc.host, tc.tls); got != tc.want {
			t.Errorf("Same(%q, %q, tls=%v) = %v, want %v", tc.origin, tc.host, tc.tls, got, tc.want)
		}
	}
}

// FuzzMatch feeds arbitrary Origin headers, patterns and Host headers:
// nothing panics, "*" matches everything, and an origin that matches an
// exact pattern written from its own parts is the same origin as its host.
func FuzzMatch(f *testing.F) {
	f.Add("https://*.example.com", "https://a.example.com", "a.example.com")
	f.Add("http://127.0.0.1:*", "http://127.0.0.1:9000", "127.0.0.1:9000")
	f.Add("null", "null", "")
	f.Add("http://[::1]", "http://[::1]:80", "[::1]")
	f.Fuzz(func(t *testing.T, pattern, origin, host string) {
		if p, err := Parse(pattern); err == nil {
			_ = p.Match(origin)
		}
		star, _ := Parse("*")
		if !star.Match(origin) {
			t.Fatalf("* does not match %q", origin)
		}
		_ = Same(origin, host, false)
		if o, ok := parseOrigin(origin); ok {
			h := o.host
			if strings.Contains(h, ":") {
				h = "[" + h + "]"
			}
			if !Same(origin, h+":"+o.port, false) {
				t.Fatalf("%q is not the same origin as its own host %s:%s", origin, h, o.port)
			}
		}
	})
}
