package plugins

import (
	"strings"
	"testing"
	"time"
)

// from is msg(route) sent by user.
func from(route, user string) *MessageInput {
	in := msg(route)
	in.UserID = user
	return in
}

// TestBreaker: the breaker opens on a failure rate from more than one
// user, not on consecutive failures: failures alternating with good calls
// open it (4 of the last 8 calls, from 2 users). While open, calls fail at
// once with kind breaker_open and the on_error verdict, without running
// the guest. After the cooldown calls run again; failing again at the rate
// opens it again, and good calls keep it closed.
func TestBreaker(t *testing.T) {
	const cooldown = 200 * time.Millisecond
	h, logs := newHost(t, enforceStop)
	p := load(t, h, "breaker", "testdata/recurse.wat", nil, func(pc *Spec) {
		pc.Breaker = Breaker{Failures: 4, Window: 8, Users: 2, Cooldown: cooldown}
	})
	call := func(route, user string, want Action) {
		t.Helper()
		if got := p.HandleMessage(ctx, from(route, user)); got.Action != want || want == Reject && got.Code != CodePluginError {
			t.Fatalf("%s from %s: got %+v, want %v; stats %+v", route, user, got, want, p.Stats())
		}
	}
	alternate := func() {
		t.Helper()
		for i := range 4 {
			waitInstances(t, p, 1)
			call("fail", []string{"ann", "ben"}[i%2], Reject)
			if i < 3 {
				call("allow", "cat", Allow)
			}
		}
	}
	alternate()
	if s := p.Stats(); !s.BreakerOpen || s.BreakerOpens != 1 || s.Failures.Trap != 4 || !strings.Contains(logs.String(), "plugin circuit breaker opened") {
		t.Fatalf("breaker not open after 4 of 7 calls failed, from 2 users: %+v\n%s", s, logs)
	}
	calls := p.Stats().Calls
	for range 5 {
		call("binary", "cat", Reject) // would spin for the timeout if it ran
		call("allow", "cat", Reject)  // a good message too: the breaker does not look
	}
	if s := p.Stats(); s.Calls != calls || s.Failures.BreakerOpen != 10 || s.Failures.Timeout != 0 {
		t.Fatalf("the guest ran while the breaker was open: %+v, was %d calls", s, calls)
	}

	time.Sleep(cooldown)
	waitInstances(t, p, 1)
	call("allow", "cat", Allow) // the cooldown is over: calls run again
	if s := p.Stats(); s.BreakerOpen || !strings.Contains(logs.String(), "plugin circuit breaker closed") {
		t.Fatalf("breaker not closed after its cooldown: %+v\n%s", s, logs)
	}
	alternate() // still failing at the rate: open again
	if s := p.Stats(); !s.BreakerOpen || s.BreakerOpens != 2 {
		t.Fatalf("breaker not open again: %+v", s)
	}

	time.Sleep(cooldown)
	waitInstances(t, p, 1)
	// Failures further apart than the window never open it.
	for i := range 6 {
		call("fail", []string{"ann", "ben"}[i%2], Reject)
		waitInstances(t, p, 1)
		for range 4 {
			call("allow", "cat", Allow)
		}
	}
	if s := p.Stats(); s.BreakerOpen || s.BreakerOpens != 2 || s.Failures.Trap != 14 {
		t.Fatalf("1 failure in 5 calls opened the breaker: %+v", s)
	}
}

// TestBreakerOneSender: one user's failures, however many and however
// fast, do not open the breaker: other users' calls keep running the guest
// (the router closes that user's connection at close_after instead).
// Every failure is marked Failed so the router can count it; a call the
// breaker refuses is not.
func TestBreakerOneSender(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "one", "testdata/recurse.wat", nil, func(pc *Spec) {
		pc.Breaker = Breaker{Failures: 3, Window: 20, Users: 2, Cooldown: time.Hour}
	})
	for range 20 {
		waitInstances(t, p, 1)
		if v := p.HandleMessage(ctx, from("fail", "mallory")); v.Action != Reject || !v.Failed {
			t.Fatalf("mallory: %+v", v)
		}
	}
	waitInstances(t, p, 1)
	calls := p.Stats().Calls
	if v := p.HandleMessage(ctx, from("allow", "bob")); v.Action != Allow || p.Stats().Calls != calls+1 {
		t.Fatalf("bob after mallory's 20 failures: %+v, %+v", v, p.Stats())
	}
	if s := p.Stats(); s.BreakerOpen || s.BreakerOpens != 0 {
		t.Fatalf("one user opened the breaker: %+v", s)
	}
	// A second user's failure makes it 2 users: open.
	p.HandleMessage(ctx, from("fail", "trent"))
	v := p.HandleMessage(ctx, from("allow", "bob"))
	if s := p.Stats(); !s.BreakerOpen || v.Action != Reject || v.Failed {
		t.Fatalf("2 users' failures: %+v, bob %+v", s, v)
	}
}

// TestBreakerOff: failures = -1 turns the breaker off, and on_error =
// "allow" applies to calls the breaker refuses as to any failure.
func TestBreakerOff(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	off := load(t, h, "off", "testdata/recurse.wat", nil, func(pc *Spec) {
		pc.Breaker = Breaker{Failures: -1}
	})
	for i := range 8 {
		off.HandleMessage(ctx, from("fail", string(rune('a'+i))))
	}
	if f := off.Stats().Failures; f.Trap != 8 || f.BreakerOpen != 0 {
		t.Fatalf("breaker off: %+v", f)
	}
	allow := load(t, h, "allow", "testdata/recurse.wat", nil, func(pc *Spec) {
		pc.OnError = "allow"
		pc.Breaker = Breaker{Failures: 1, Users: 1, Cooldown: time.Hour}
	})
	allow.HandleMessage(ctx, msg("fail"))
	if got := allow.HandleMessage(ctx, msg("fail")); got.Action != Allow || allow.Stats().Failures.BreakerOpen != 1 {
		t.Fatalf("on_error allow with the breaker open: %+v, %+v", got, allow.Stats().Failures)
	}
}

// TestFailureLogsLimited: "plugin failed" lines (each carries the error,
// a wasm stack trace for a trap) are limited to the plugin's log rate, so
// a storm of failures logs a bounded number of lines, and the next line
// let through says how many were dropped.
func TestFailureLogsLimited(t *testing.T) {
	h, logs := newHost(t, enforceStop)
	p := load(t, h, "storm", "testdata/recurse.wat", nil, func(pc *Spec) {
		pc.Breaker = Breaker{Failures: -1}
	})
	const n = 300
	start := time.Now()
	for range n {
		p.HandleMessage(ctx, msg("fail"))
	}
	elapsed := time.Since(start)
	time.Sleep(2 * time.Second / logLines) // two lines' worth of rate
	p.HandleMessage(ctx, msg("fail"))
	lines := strings.Count(logs.String(), `msg="plugin failed"`)
	limit := logBurst + int(elapsed.Seconds()*logLines) + 3
	if lines > limit || lines >= n || !strings.Contains(logs.String(), `msg="plugin failure lines dropped"`) {
		t.Fatalf("%d failures in %v logged %d lines, want at most %d and a dropped count:\n%.2000s", n+1, elapsed, lines, limit, logs)
	}
	if f := p.Stats().Failures; f.Trap != n+1 {
		t.Fatalf("failures %+v, want %d traps: counted even when not logged", f, n+1)
	}
}
