package plugins

import (
	"testing"
	"time"
)

// A ~100-byte envelope, like the chat protocol's send_message.
var benchEnvelope = []byte(`{"type":"send_message","roomId":"general","text":"hello there, see https://example.com/docs for the details"}`)

func benchInput() *MessageInput {
	return &MessageInput{
		Envelope: benchEnvelope, Route: "send_message", UserID: "u-42", ConnID: "c-7",
		RemoteAddr: "192.0.2.1:5555", Claims: []byte(`{"role":"member"}`),
	}
}

func benchPlugin(b *testing.B, enforce enforcement, src string, cfg map[string]any) *Plugin {
	h, _ := newHost(b, enforce)
	return load(b, h, "bench", src, cfg, func(pc *Spec) { pc.Timeout = 10 * time.Millisecond })
}

func runBench(b *testing.B, p *Plugin, want Action) {
	in := benchInput()
	if v := p.HandleMessage(ctx, in); v.Action != want {
		b.Fatalf("got %+v, want %v", v, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p.HandleMessage(ctx, in)
	}
}

var nolinksConfig = map[string]any{"allow": []any{"example.com"}}

// BenchmarkNoop is the cost of the machinery: borrow an instance, write
// the input, one guest call into a Go plugin that allows, decode.
func BenchmarkNoop(b *testing.B) {
	runBench(b, benchPlugin(b, enforceStop, "../examples/plugins/noop", nil), Allow)
}

// BenchmarkNoopWAT is the same with a hand-written guest (no Go runtime).
func BenchmarkNoopWAT(b *testing.B) {
	runBench(b, benchPlugin(b, enforceStop, "testdata/conformance.wat", nil), Allow)
}

// BenchmarkValidator is a realistic field validator: nolinks scans "text"
// for links outside its allow-list.
func BenchmarkValidator(b *testing.B) {
	runBench(b, benchPlugin(b, enforceStop, "../examples/plugins/nolinks", nolinksConfig), Allow)
}

// BenchmarkChain3 runs three plugins in a row, as a route would.
func BenchmarkChain3(b *testing.B) {
	h, _ := newHost(b, enforceStop)
	chain := []*Plugin{
		load(b, h, "nolinks", "../examples/plugins/nolinks", nolinksConfig, nil),
		load(b, h, "noop", "../examples/plugins/noop", nil, nil),
		load(b, h, "nolinks2", "../examples/plugins/nolinks", map[string]any{"allow": []any{"example.com"}, "field": "roomId"}, nil),
	}
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range chain {
			if v := p.HandleMessage(ctx, in); v.Action != Allow {
				b.Fatalf("%s: %+v", p.Name(), v)
			}
		}
	}
}

// BenchmarkTimeout measures what enforcing the timeout costs: the same
// calls with no enforcement, with the injected yields and guest-time meter
// (the default), and with wazero's close-on-context-done.
func BenchmarkTimeout(b *testing.B) {
	modes := []struct {
		name string
		e    enforcement
	}{{"none", enforceNone}, {"stop", enforceStop}, {"context", enforceContext}}
	for _, plugin := range []struct {
		name, src string
		cfg       map[string]any
	}{{"noop", "../examples/plugins/noop", nil}, {"validator", "../examples/plugins/nolinks", nolinksConfig}} {
		for _, m := range modes {
			b.Run(plugin.name+"/"+m.name, func(b *testing.B) {
				runBench(b, benchPlugin(b, m.e, plugin.src, plugin.cfg), Allow)
			})
		}
	}
}

// BenchmarkParallel is the no-op call from all Ps at once, through the pool.
func BenchmarkParallel(b *testing.B) {
	h, _ := newHost(b, enforceStop)
	p := load(b, h, "noop", "../examples/plugins/noop", nil, func(pc *Spec) { pc.Pool = 0 })
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		in := benchInput()
		for pb.Next() {
			p.HandleMessage(ctx, in)
		}
	})
}
