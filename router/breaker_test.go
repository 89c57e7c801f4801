package router_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
	"github.com/switchboard-rt/switchboard/router"
)

// breakerServer runs the plugin at wasm with the given plugin block body
// on routes "post" and "secret" (both to the sender), and serves
// /metrics.
func breakerServer(t *testing.T, wasm, body string) (*server, func() string) {
	t.Helper()
	hcl := defaultHCL(t) + `
plugin "guard" {
  source = "` + wasm + `"
  pool   = 1
` + body + `
}

route "post" {
  plugins = [plugin.guard]
  deliver {
    to = "sender"
  }
}

route "secret" {
  plugins = [plugin.guard]
  deliver {
    to = "sender"
  }
}
`
	return metricsServer(t, hcl)
}

// metricsServer starts hcl with metrics and returns it with a function
// that scrapes its /metrics.
func metricsServer(t *testing.T, hcl string) (*server, func() string) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s := startServer(t, hcl, router.WithMetrics(reg))
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(metrics.Close)
	return s, func() string {
		t.Helper()
		res, err := http.Get(metrics.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
}

// TestPluginFailuresCountAgainstSender: a plugin whose switchboard_reserve
// traps on inputs over 4 KiB, with on_error = "allow" and a breaker that
// opens at 3 failures. Alice's padded frames, 5 in a row, make it fail
// (the attack: one client switching the policy off): each counts
// against her, and after close_after (10) she is closed with 4008. Her
// failures alone never open the breaker: bob's "secret" messages keep
// being checked by the plugin (rejected "blocked"), where an open breaker
// would let them through unchecked.
func TestPluginFailuresCountAgainstSender(t *testing.T) {
	s, metrics := breakerServer(t, wasmbuild.Build(t, "../plugins/testdata/bigtrap.wat"), `
  on_error = "allow"
  breaker {
    failures = 3
    users    = 2
    cooldown = "1h"
  }
`)
	alice, bob := s.dial("alice"), s.dial("bob")
	padded := `{"type":"post","text":"` + strings.Repeat("x", 5000) + `"}`
	for i := range 10 {
		alice.send(padded)
		alice.expect("post") // on_error = "allow": delivered, and counted
		if i%5 < 4 {
			continue // 5 in a row, then bob
		}
		bob.send(`{"type":"secret","text":"s"}`)
		if m := bob.expect("error"); m["code"] != "blocked" {
			t.Fatalf("bob's secret after alice's failure %d: %v, want the plugin's reject (blocked)", i+1, m)
		}
		bob.send(`{"type":"post","text":"hi"}`)
		bob.expect("post")
	}
	alice.expectClose(websocket.StatusCode(router.ClosePolicyViolated))
	m := metrics()
	for _, want := range []string{
		`switchboard_plugin_failures_total{kind="memory",plugin="guard"} 10`,
		`switchboard_plugin_failures_total{kind="breaker_open",plugin="guard"} 0`,
		`switchboard_plugin_breaker_opens_total{plugin="guard"} 0`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", m)
	}
}

// TestAlternatingFailuresOpenBreaker: a Go SDK guest that panics on text
// "boom" (each panic costs an instance replacement). Failures alternating
// with good messages:
//   - from one user: the breaker stays closed, and the user is closed with
//     4008 after close_after failures even with good messages between them;
//   - from two users, 10 failures among 20 calls (the default breaker):
//     the breaker opens, and the next message fails at once (plugin_error)
//     without running the guest.
func TestAlternatingFailuresOpenBreaker(t *testing.T) {
	s, metrics := breakerServer(t, wasmbuild.Build(t, "../plugins/testdata/boomguest"), `
  breaker {
    cooldown = "1h"
  }
`)
	boom := func(c *client) {
		t.Helper()
		c.send(`{"type":"post","text":"boom"}`)
		if m := c.expect("error"); m["code"] != "plugin_error" {
			t.Fatalf("%s boom: %v", c.user, m)
		}
	}
	hello := func(c *client) {
		t.Helper()
		c.send(`{"type":"post","text":"hello"}`)
		c.expect("post")
	}

	alice, bob := s.dial("alice"), s.dial("bob")
	for i := range 10 {
		boom(alice)
		if i < 9 {
			hello(alice)
		}
	}
	alice.expectClose(websocket.StatusCode(router.ClosePolicyViolated))
	for range 20 { // bob's messages are checked and delivered; alice's failures leave the window
		hello(bob)
	}
	if m := metrics(); !strings.Contains(m, `switchboard_plugin_breaker_opens_total{plugin="guard"} 0`+"\n") {
		t.Fatalf("one user's failures opened the breaker:\n%s", m)
	}

	carol, dave := s.dial("carol"), s.dial("dave")
	for i := range 5 {
		boom(carol)
		hello(carol)
		boom(dave) // the last: 10 failures among 19 calls, from 2 users
		if i < 4 {
			hello(dave)
		}
	}
	bob.send(`{"type":"post","text":"hello"}`)
	if m := bob.expect("error"); m["code"] != "plugin_error" {
		t.Fatalf("bob with the breaker open: %v", m)
	}
	m := metrics()
	for _, want := range []string{
		`switchboard_plugin_failures_total{kind="trap",plugin="guard"} 20`,
		`switchboard_plugin_failures_total{kind="breaker_open",plugin="guard"} 1`,
		`switchboard_plugin_breaker_open{plugin="guard"} 1`,
		`switchboard_plugin_breaker_opens_total{plugin="guard"} 1`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", m)
	}
}
