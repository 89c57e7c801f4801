package router

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"

	"github.com/switchboard-rt/switchboard/router/config"
)

// benchRoom builds a router with n members in room "r", each a real
// loopback TCP connection whose far end is drained.
func benchRoom(b *testing.B, n int, plugin string, opts ...Option) (r *Router, sender *conn, members []*conn) {
	b.Helper()
	cfg := &config.Config{Server: config.Server{SendQueue: 4 * burst}, Routes: []*config.Route{{
		Type: "send_message",
		Schema: []*config.Field{
			{Name: "roomId", Type: config.TypeString, Required: true},
			{Name: "text", Type: config.TypeString, Required: true},
		},
		Deliver: &config.Deliver{To: config.ToRoom, Room: &config.Expr{Parts: []config.ExprPart{{From: config.FromMsg, Path: []string{"roomId"}}}}, As: "message_received"},
	}}}
	if plugin != "" {
		cfg.Plugins = []*config.Plugin{{Name: "no_links", Source: plugin, Config: map[string]any{"allow": []any{"example.com"}}}}
		cfg.Routes[0].Plugins = []string{"no_links"}
	}
	r, err := New(cfg, opts...)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	for i := 0; i < n+1; i++ {
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		go io.Copy(io.Discard, client)
		srv, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		c := r.newConn(srv)
		c.id, c.userID = randomID(), "u"+randomID()
		if added, _ := r.hub.add(c, 0); !added {
			b.Fatal("not added")
		}
		r.hub.join(c, "r", 0)
		if sender == nil {
			sender = c
		}
		members = append(members, c)
		b.Cleanup(func() { srv.Close(); client.Close() })
	}
	return r, sender, members
}

// BenchmarkFanout measures one message from parse to queued on every
// member of a room whose members are real loopback sockets. The writes
// happen mostly off the clock (while the benchmark drains), so ns/op is
// the publisher's side; the writes are measured by `switchboard bench`.
// allocs/op must not grow with the room: it is per message, not per
// recipient.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run("members="+itoa(n), func(b *testing.B) { benchFanout(b, n, "") })
		b.Run("members="+itoa(n)+"/metrics", func(b *testing.B) {
			// A registry per run: the benchmark function runs several times.
			benchFanout(b, n, "", WithMetrics(prometheus.NewRegistry()))
		})
		b.Run("members="+itoa(n)+"/nolinks", func(b *testing.B) {
			benchFanout(b, n, wasmbuild.Build(b, "../examples/plugins/nolinks"))
		})
	}
}

func benchFanout(b *testing.B, n int, plugin string, opts ...Option) {
	r, sender, members := benchRoom(b, n, plugin, opts...)
	msg := []byte(`{"type":"send_message","roomId":"r","text":"hello, this is a chat message of ordinary length"}`)
	// Warm up: queues, iovec arrays and the pool of writer goroutines
	// grow to their working size once; the figures are the steady state.
	for i := range 1000 {
		r.handle(sender, true, msg)
		if i%burst == burst-1 {
			drain(members)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.handle(sender, true, msg)
		if i%burst == burst-1 {
			b.StopTimer()
			drain(members)
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/recipient")
}

// burst is how many messages the benchmark publishes before it waits, off
// the clock, for every queue to be written: a publisher left to run ahead
// of the writers would grow the queues without bound, which send_queue
// prevents in a real server.
const burst = 64

func drain(members []*conn) {
	for _, c := range members {
		for {
			c.mu.Lock()
			idle := !c.writing
			c.mu.Unlock()
			if idle {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}
