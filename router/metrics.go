package router

import (
	"encoding/binary"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-rt/switchboard/plugins"
)

// metrics are the router's Prometheus series. A router built without
// WithMetrics has none, and the hot path then pays one nil check.
type metrics struct {
	connections   prometheus.Gauge
	messagesIn    *prometheus.CounterVec   // route
	deliveries    *prometheus.CounterVec   // route: frames queued, one per recipient
	rejections    *prometheus.CounterVec   // route, plugin ("" for the router's own checks), code
	pluginSeconds *prometheus.HistogramVec // plugin
	slowClosed    prometheus.Counter
	pingRTT       prometheus.Histogram
}

// WithMetrics registers the router's metrics with reg (for example
// prometheus.DefaultRegisterer, or a registry served by promhttp).
func WithMetrics(reg prometheus.Registerer) Option {
	return func(o *options) { o.metrics = reg }
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns = "switchboard"
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "connections",
			Help: "Open WebSocket connections on this node."}),
		messagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_in_total",
			Help: "Messages received, by route (unknown types count under route \"\")."}, []string{"route"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "deliveries_total",
			Help: "Frames queued for recipients, by route (one per recipient)."}, []string{"route"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rejections_total",
			Help: "Messages refused, by route, plugin (\"\" for the router's own checks) and error code."}, []string{"route", "plugin", "code"}),
		pluginSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "plugin_call_seconds",
			Help:    "Time spent in one plugin call.",
			Buckets: []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2}}, []string{"plugin"}),
		slowClosed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "slow_consumers_closed_total",
			Help: "Slow consumers closed (1013, then reset): send_queue bytes behind, or no progress for send_timeout. Each connection counts once."}),
		pingRTT: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "ping_rtt_seconds",
			Help:    "Round-trip time of the server's heartbeat pings, from queueing the ping (which waits up to server.write_delay with other frames) to its pong.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
	}
	reg.MustRegister(m.connections, m.messagesIn, m.deliveries, m.rejections, m.pluginSeconds, m.slowClosed, m.pingRTT)
	return m
}

// pingPayload carries the send time, so the pong gives the round trip.
func pingPayload(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
}

// observePong records the round trip of the heartbeat ping sent at sent.
func (m *metrics) observePong(sent time.Time) {
	if d := time.Since(sent); d >= 0 && d < time.Hour {
		m.pingRTT.Observe(d.Seconds())
	}
}

// pluginCollector exports the WASM plugins' own counters at scrape time,
// from Plugin.Stats: nothing is added to a call's path.
type pluginCollector struct {
	plugins      []*plugins.Plugin
	failures     *prometheus.Desc
	counts       *prometheus.Desc
	breakerOpen  *prometheus.Desc
	breakerOpens *prometheus.Desc
}

func newPluginCollector(ps []*plugins.Plugin) *pluginCollector {
	const ns = "switchboard"
	return &pluginCollector{
		plugins: ps,
		failures: prometheus.NewDesc(ns+"_plugin_failures_total",
			"Failed plugin calls, by plugin and kind (trap, timeout, memory, exit, malformed, unavailable, stack, breaker_open).",
			[]string{"plugin", "kind"}, nil),
		counts: prometheus.NewDesc(ns+"_plugin_count",
			"The plugin's own counters (sdk.Count, the count host import), by plugin and name; a gauge, since a delta may be negative.",
			[]string{"plugin", "name"}, nil),
		breakerOpen: prometheus.NewDesc(ns+"_plugin_breaker_open",
			"1 while the plugin's circuit breaker is open (until the first call after its cooldown), else 0.",
			[]string{"plugin"}, nil),
		breakerOpens: prometheus.NewDesc(ns+"_plugin_breaker_opens_total",
			"Times the plugin's circuit breaker opened.", []string{"plugin"}, nil),
	}
}

func (c *pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.failures
	ch <- c.counts
	ch <- c.breakerOpen
	ch <- c.breakerOpens
}

func (c *pluginCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.plugins {
		s := p.Stats()
		for i, n := range s.Failures.ByKind() {
			ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(n), p.Name(), plugins.FailureKinds[i])
		}
		for name, v := range s.Counters {
			ch <- prometheus.MustNewConstMetric(c.counts, prometheus.GaugeValue, float64(v), p.Name(), name)
		}
		open := 0.0
		if s.BreakerOpen {
			open = 1
		}
		ch <- prometheus.MustNewConstMetric(c.breakerOpen, prometheus.GaugeValue, open, p.Name())
		ch <- prometheus.MustNewConstMetric(c.breakerOpens, prometheus.CounterValue, float64(s.BreakerOpens), p.Name())
	}
}
