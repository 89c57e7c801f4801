package plugins

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/router/config"
)

// TestBreaker: a plugin that fails every call (here it spins until its
// timeout) opens its breaker after breaker.failures calls; then calls fail
// at once with kind breaker_open and the on_error verdict, without running
// the guest. After the cooldown one probe runs: a failing probe keeps the
// breaker open, a succeeding one closes it.
func TestBreaker(t *testing.T) {
	const cooldown = 200 * time.Millisecond
	h, logs := newHost(t, enforceStop)
	p := load(t, h, "spinner", "testdata/recurse.wat", nil, func(pc *config.Plugin) {
		pc.Timeout = recurseTimeout
		pc.Breaker = config.Breaker{Failures: 3, Cooldown: cooldown}
	})
	call := func(route string, want Action) {
		t.Helper()
		if got := p.HandleMessage(ctx, msg(route)); got.Action != want || want == Reject && got.Code != CodePluginError {
			t.Fatalf("%s: got %+v, want %v; stats %+v", route, got, want, p.Stats())
		}
	}
	failures := func(want Failures) {
		t.Helper()
		if got := p.Stats().Failures; got != want {
			t.Fatalf("failures %+v, want %+v", got, want)
		}
	}
	for range 3 {
		waitInstances(t, p, 1)
		call("binary", Reject)
	}
	failures(Failures{Timeout: 3})
	if s := p.Stats(); !s.BreakerOpen || s.BreakerOpens != 1 || !strings.Contains(logs.String(), "plugin circuit breaker opened") {
		t.Fatalf("breaker not open after 3 failures: %+v\n%s", s, logs)
	}
	calls := p.Stats().Calls
	for range 5 {
		call("binary", Reject) // would spin for the timeout if it ran
		call("allow", Reject)  // a good message too: the breaker does not look
	}
	failures(Failures{Timeout: 3, BreakerOpen: 10})
	if p.Stats().Calls != calls {
		t.Fatalf("the guest ran while the breaker was open: %d calls, was %d", p.Stats().Calls, calls)
	}

	time.Sleep(cooldown)
	waitInstances(t, p, 1)
	call("fail", Reject) // the probe traps: open for another cooldown
	call("allow", Reject)
	failures(Failures{Timeout: 3, Trap: 1, BreakerOpen: 11})
	if !strings.Contains(logs.String(), "probe call failed") {
		t.Fatalf("no log line for the failed probe:\n%s", logs)
	}

	time.Sleep(cooldown)
	waitInstances(t, p, 1)
	call("allow", Allow) // the probe succeeds: closed
	call("allow", Allow)
	if s := p.Stats(); s.BreakerOpen || s.BreakerOpens != 1 || !strings.Contains(logs.String(), "plugin circuit breaker closed") {
		t.Fatalf("breaker not closed by a good probe: %+v\n%s", s, logs)
	}
	// Closed again, it counts consecutive failures afresh: two, a
	// success, two more do not open it.
	call("fail", Reject)
	call("fail", Reject)
	waitInstances(t, p, 1)
	call("allow", Allow)
	call("fail", Reject)
	call("fail", Reject)
	waitInstances(t, p, 1)
	call("allow", Allow)
	failures(Failures{Timeout: 3, Trap: 5, BreakerOpen: 11})
}

// TestBreakerOff: failures = -1 turns the breaker off, and on_error =
// "allow" applies to calls the breaker refuses as to any failure.
func TestBreakerOff(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	off := load(t, h, "off", "testdata/recurse.wat", nil, func(pc *config.Plugin) {
		pc.Breaker = config.Breaker{Failures: -1}
	})
	for range 8 {
		off.HandleMessage(ctx, msg("fail"))
	}
	if f := off.Stats().Failures; f.Trap != 8 || f.BreakerOpen != 0 {
		t.Fatalf("breaker off: %+v", f)
	}
	allow := load(t, h, "allow", "testdata/recurse.wat", nil, func(pc *config.Plugin) {
		pc.OnError = "allow"
		pc.Breaker = config.Breaker{Failures: 1, Cooldown: time.Hour}
	})
	allow.HandleMessage(ctx, msg("fail"))
	if got := allow.HandleMessage(ctx, msg("fail")); got.Action != Allow || allow.Stats().Failures.BreakerOpen != 1 {
		t.Fatalf("on_error allow with the breaker open: %+v, %+v", got, allow.Stats().Failures)
	}
}
