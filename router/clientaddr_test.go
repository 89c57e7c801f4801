package router

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer: header ignored", "203.0.113.9:4000", []string{"1.2.3.4"}, "203.0.113.9:4000"},
		{"trusted peer, one hop", "10.0.0.9:4000", []string{"1.2.3.4"}, "1.2.3.4"},
		{"chain of trusted proxies", "10.0.0.9:4000", []string{"1.2.3.4, 10.0.0.5"}, "1.2.3.4"},
		{"header lines joined", "10.0.0.9:4000", []string{"1.2.3.4", "10.0.0.5"}, "1.2.3.4"},
		{"spoofed entries left of the client are ignored", "10.0.0.9:4000", []string{"6.6.6.6, 1.2.3.4"}, "1.2.3.4"},
		{"every hop a proxy: the farthest", "10.0.0.9:4000", []string{"10.1.1.1, 10.0.0.5"}, "10.1.1.1"},
		{"no header", "10.0.0.9:4000", nil, "10.0.0.9:4000"},
		{"empty header", "10.0.0.9:4000", []string{""}, "10.0.0.9:4000"},
		{"garbage nearest: the peer", "10.0.0.9:4000", []string{"1.2.3.4, nonsense"}, "10.0.0.9:4000"},
		{"garbage beyond a proxy: that proxy", "10.0.0.9:4000", []string{"nonsense, 10.0.0.5"}, "10.0.0.5"},
		{"IPv6 peer and client", "[::1]:4000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4-mapped client", "10.0.0.9:4000", []string{"::ffff:1.2.3.4"}, "1.2.3.4"},
		{"zone refused", "10.0.0.9:4000", []string{"fe80::1%eth0"}, "10.0.0.9:4000"},
		{"unparsable peer", "pipe", []string{"1.2.3.4"}, "pipe"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
			for _, v := range c.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := clientAddr(req, proxies); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	req := &http.Request{RemoteAddr: "10.0.0.9:4000", Header: http.Header{"X-Forwarded-For": {"1.2.3.4"}}}
	if got := clientAddr(req, nil); got != req.RemoteAddr {
		t.Errorf("no trusted proxies: got %q, want the peer", got)
	}
}

// FuzzClientAddr: whatever the header holds, the result is the peer or an
// address the header names.
func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4, 10.0.0.5", " , ,", "::ffff:10.0.0.1", "fe80::1%x", "1.2.3.4,,10.0.0.1"} {
		f.Add(s)
	}
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, xff string) {
		req := &http.Request{RemoteAddr: "10.9.9.9:1", Header: http.Header{"X-Forwarded-For": {xff}}}
		got := clientAddr(req, proxies)
		if got == req.RemoteAddr {
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil {
			t.Fatalf("%q: result %q is neither the peer nor an address", xff, got)
		}
		found := false
		for _, h := range strings.Split(xff, ",") {
			if b, err := netip.ParseAddr(strings.TrimSpace(h)); err == nil && b.Unmap() == a {
				found = true
			}
		}
		if !found {
			t.Fatalf("%q: result %q is not in the header", xff, got)
		}
	})
}
