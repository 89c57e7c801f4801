package main

import (
	"encoding/json"
	"testing"

	"github.com/switchboard-rt/switchboard/internal/bench"
)

// TestBench runs tiny versions of every scenario through the real binary:
// the child servers it starts, the JSON report, the ratios.
func TestBench(t *testing.T) {
	run := func(t *testing.T, args ...string) *bench.Report {
		t.Helper()
		out, errOut, code := switchboard(t, "../..", nil, append([]string{"bench"}, append(args, "--json")...)...)
		if code != 0 {
			t.Fatalf("bench %v: exit %d\n%s", args, code, errOut)
		}
		var rep bench.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("bench %v: %v\n%s", args, err, out)
		}
		return &rep
	}
	t.Run("fanout", func(t *testing.T) {
		rep := run(t, "fanout", "--subscribers", "20", "--rate", "20", "--step", "2", "--steps", "2", "--duration", "300ms", "--max-p99", "1m", "--baseline")
		if len(rep.Runs) != 2 || rep.Runs[0].Server != "switchboard" || rep.Runs[1].Server != "baseline" {
			t.Fatalf("runs: %+v", rep.Runs)
		}
		for _, r := range rep.Runs {
			if len(r.Fanout.Steps) != 2 || r.Fanout.MaxSustained != 40 {
				t.Errorf("%s: %+v", r.Server, r.Fanout)
			}
			for _, s := range r.Fanout.Steps {
				if s.DeliveredRatio != 1 || s.DeliveriesPerSec <= 0 {
					t.Errorf("%s: step %+v", r.Server, s)
				}
			}
		}
		if rep.Ratios["max_sustained_rate"] != 1 {
			t.Errorf("ratios: %v", rep.Ratios)
		}
	})
	t.Run("idle", func(t *testing.T) {
		rep := run(t, "idle", "--conns", "50", "--settle", "100ms")
		if i := rep.Runs[0].Idle; i.Lost != 0 || i.RSSAfter <= i.RSSBefore || i.BytesPerConn <= 0 {
			t.Errorf("idle: %+v", i)
		}
	})
	t.Run("slow", func(t *testing.T) {
		rep := run(t, "slow", "--silent", "20", "--slow-readers", "5", "--fast", "5", "--publishers", "2", "--pub-rate", "20", "--send-for", "500ms", "--after", "100ms")
		s := rep.Runs[0].Slow
		if s == nil || s.Sent == 0 || s.Delivered != s.Expected || s.Expected != s.Sent*6 || s.FastClosed+s.PublishersClosed+s.SlowClosed != 0 {
			t.Errorf("slow: %+v", s)
		}
	})
	t.Run("slow drop", func(t *testing.T) {
		rep := run(t, "slow", "--fast", "30", "--drop", "20", "--after", "100ms")
		if s := rep.Runs[0].Slow; s == nil || s.Expected != 20*10 || s.Delivered != s.Expected || s.FastClosed != 0 {
			t.Errorf("slow --drop: %+v", s)
		}
	})
	t.Run("connect", func(t *testing.T) {
		rep := run(t, "connect", "--for", "300ms", "--concurrency", "4")
		if c := rep.Runs[0].Connect; c.Handshakes == 0 || c.Errors != 0 {
			t.Errorf("connect: %+v", c)
		}
	})
}
