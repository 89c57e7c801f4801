package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/router"
)

const testSecret = "bench-test-secret"

// servers starts Switchboard (the default router.hcl) and the baseline
// in this process, on 127.0.0.1, and returns their targets by name.
func servers(t *testing.T) map[string]target {
	t.Helper()
	t.Setenv("SWITCHBOARD_JWT_SECRET", testSecret)
	src, err := os.ReadFile("../../router.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := router.ParseConfig(src, "router.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Limits.ConnectRate = nil // as `switchboard bench` starts it: the load comes from one address
	rt, err := router.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sb := httptest.NewServer(rt)
	bl := httptest.NewServer(NewBaseline([]byte(testSecret)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Close(ctx)
		sb.Close()
		bl.Close()
	})
	out := map[string]target{}
	for name, s := range map[string]*httptest.Server{"switchboard": sb, "baseline": bl} {
		tg, err := parseTarget(strings.Replace(s.URL, "http://", "ws://", 1) + "/ws")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = tg
	}
	return out
}

func TestScenarios(t *testing.T) {
	all := servers(t)
	t.Run("fanout", func(t *testing.T) {
		o := FanoutOptions{Members: 20, Rate: 20, Step: 2, Steps: 2, Duration: 300 * time.Millisecond, PublisherRate: 15, Room: "r",
			MaxP99: time.Minute} // a loaded test machine is slow; the bound is not what is tested
		results, err := runFanout(t.Context(), []server{{"switchboard", all["switchboard"], os.Getpid()}, {"baseline", all["baseline"], 0}}, []byte(testSecret), o, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range results {
			if len(res.Steps) != 2 {
				t.Fatalf("%d steps, want 2: %+v", len(res.Steps), res)
			}
			for _, s := range res.Steps {
				if s.Sent == 0 || s.Delivered != s.Expected || s.Expected != s.Sent*19 || s.DeliveriesPerSec <= 0 ||
					s.P50ms <= 0 || s.P99ms < s.P50ms || s.MaxMs < s.P99ms || !s.Sustained || s.Errors != 0 || s.Publishers != int((s.Rate+14)/15) {
					t.Errorf("step %+v: want everything delivered, sane latencies, no errors", s)
				}
			}
			if res.MaxSustained != 40 /* both steps */ {
				t.Errorf("max sustained %v, want 40", res.MaxSustained)
			}
		}
	})
	for name, tg := range all {
		t.Run(name+"/idle", func(t *testing.T) {
			res, err := runIdle(t.Context(), tg, []byte(testSecret), IdleOptions{Conns: 50, RoomSize: 10, Settle: 50 * time.Millisecond}, os.Getpid(), name, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			// This process holds both ends, so only the readings are checked,
			// not the per-connection figure (the command test checks that).
			if res.Conns != 50 || res.Lost != 0 || res.RSSBefore == 0 || res.RSSAfter == 0 {
				t.Errorf("idle: %+v", res)
			}
		})
		t.Run(name+"/connect", func(t *testing.T) {
			res, err := runConnect(t.Context(), tg, []byte(testSecret), ConnectOptions{Concurrency: 4, Duration: 300 * time.Millisecond, MaxConnects: 1000}, 0, name, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Handshakes == 0 || res.Errors != 0 || res.PerSec <= 0 || res.P99ms <= 0 {
				t.Errorf("connect: %+v", res)
			}
		})
		t.Run(name+"/wrong-secret", func(t *testing.T) {
			res, err := runConnect(t.Context(), tg, []byte("not-the-secret"), ConnectOptions{Concurrency: 2, Duration: 100 * time.Millisecond, MaxConnects: 20}, 0, name, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Handshakes != 0 || res.Errors == 0 {
				t.Errorf("a bad token must not connect: %+v", res)
			}
		})
	}
}

func TestParseTargetLoopbackOnly(t *testing.T) {
	for _, u := range []string{"ws://example.com/ws", "wss://127.0.0.1/ws", "ws://10.0.0.1:8080/ws"} {
		if _, err := parseTarget(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	tg, err := parseTarget("ws://127.0.0.1:8080/ws?x=1")
	if err != nil || tg.host != "127.0.0.1:8080" || tg.path != "/ws?x=1" {
		t.Errorf("got %+v, %v", tg, err)
	}
}

var _ http.Handler = (*Baseline)(nil)
