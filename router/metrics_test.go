package router_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-rt/switchboard/router"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	hcl := strings.Replace(defaultHCL(t), `interval = "30s"`, `interval = "100ms"`, 1)
	s := startServer(t, hcl, router.WithMetrics(reg))
	a, b := s.dial("alice"), s.dial("bob")
	a.join("r")
	b.join("r")
	a.expect("user_joined")
	a.send(`{"type":"send_message","roomId":"r","text":"hi"}`)
	b.expect("message_received")
	a.send(`{"type":"nope"}`)
	a.expect("error")
	a.send(`{"type":"send_message","roomId":"r"}`)
	a.expect("error")
	time.Sleep(300 * time.Millisecond) // a few heartbeats: pongs give RTTs

	want := `
# HELP switchboard_connections Open WebSocket connections on this node.
# TYPE switchboard_connections gauge
switchboard_connections 2
# HELP switchboard_deliveries_total Frames queued for recipients, by route (one per recipient).
# TYPE switchboard_deliveries_total counter
switchboard_deliveries_total{route="join_room"} 0
switchboard_deliveries_total{route="leave_room"} 0
switchboard_deliveries_total{route="send_message"} 1
switchboard_deliveries_total{route="typing_start"} 0
switchboard_deliveries_total{route="typing_stop"} 0
# HELP switchboard_rejections_total Messages refused, by route, plugin ("" for the router's own checks) and error code.
# TYPE switchboard_rejections_total counter
switchboard_rejections_total{code="invalid_field",plugin="",route="send_message"} 1
switchboard_rejections_total{code="unknown_type",plugin="",route=""} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchboard_connections", "switchboard_deliveries_total", "switchboard_rejections_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(mustCounter(t, reg, "switchboard_messages_in_total", "join_room")); n != 2 {
		t.Fatalf("join_room messages in = %v", n)
	}
	if n, err := testutil.GatherAndCount(reg, "switchboard_ping_rtt_seconds"); err != nil || n != 1 {
		t.Fatalf("ping rtt series: %d %v", n, err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "switchboard_ping_rtt_seconds" && mf.GetMetric()[0].GetHistogram().GetSampleCount() == 0 {
			t.Fatal("no ping round trip observed")
		}
	}
	_ = a.c.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(gauge(t, reg)) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("connections gauge not decremented")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustCounter reads one labelled series from the registry.
func mustCounter(t *testing.T, reg *prometheus.Registry, name, route string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == route {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
				c.Add(m.GetCounter().GetValue())
				return c
			}
		}
	}
	t.Fatalf("no %s{route=%q}", name, route)
	return nil
}

func gauge(t *testing.T, reg *prometheus.Registry) prometheus.Collector {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "switchboard_connections" {
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
			g.Set(mf.GetMetric()[0].GetGauge().GetValue())
			return g
		}
	}
	t.Fatal("no connections gauge")
	return nil
}
