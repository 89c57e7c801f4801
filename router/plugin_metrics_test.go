package router_test

import (
	"strings"
	"testing"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
)

// TestPluginMetrics: plugin failures by kind, the guest's own counters
// (the count import) and the breaker's state are served on /metrics. The
// conformance guest picks its behavior by route: "count" adds 2 to its
// counter "seen", "trap" traps; two traps open the breaker (failures = 2,
// users = 1: alice's alone),
// so the third message is refused by the breaker without a call.
func TestPluginMetrics(t *testing.T) {
	wasm := wasmbuild.Build(t, "../plugins/testdata/conformance.wat")
	hcl := defaultHCL(t) + `
plugin "conf" {
  source = "` + wasm + `"
  pool   = 1
  breaker {
    failures = 2
    users    = 1
    cooldown = "1h"
  }
}

route "count" {
  plugins = [plugin.conf]
  deliver {
    to = "sender"
  }
}

route "trap" {
  plugins = [plugin.conf]
  deliver {
    to = "sender"
  }
}
`
	s, scrape := metricsServer(t, hcl)

	a := s.dial("alice")
	for range 3 {
		a.send(`{"type":"count"}`)
		a.expect("count")
	}
	for range 3 {
		a.send(`{"type":"trap"}`)
		if m := a.expect("error"); m["code"] != "plugin_error" {
			t.Fatalf("trap: %v", m)
		}
	}

	body := scrape()
	for _, want := range []string{
		`switchboard_plugin_count{name="seen",plugin="conf"} 6`,
		`switchboard_plugin_failures_total{kind="trap",plugin="conf"} 2`,
		`switchboard_plugin_failures_total{kind="breaker_open",plugin="conf"} 1`,
		`switchboard_plugin_failures_total{kind="timeout",plugin="conf"} 0`,
		`switchboard_plugin_failures_total{kind="stack",plugin="conf"} 0`,
		`switchboard_plugin_breaker_open{plugin="conf"} 1`,
		`switchboard_plugin_breaker_opens_total{plugin="conf"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}
