// Package sdktest runs a Go plugin's handlers in tests: natively, calling
// the handlers the plugin registered in init (fast, debuggable, coverage),
// and compiled to wasm under the real host (what production runs). Run does
// both with the same test function:
//
//	func TestPlugin(t *testing.T) {
//		sdktest.Run(t, ".", map[string]any{"allow": []any{"example.com"}}, func(t *testing.T, p sdktest.Plugin) {
//			v := p.Message(t, &plugins.MessageInput{Envelope: []byte(`{"type":"m","text":"hi"}`), Route: "m"})
//			if v.Action != plugins.Allow { t.Fatal(v) }
//		})
//	}
//
// RejectsConfig checks, both ways too, that init refuses a config with the
// expected error.
//
// Native runs go through the same ABI encoding and result rules as the
// host. They share the SDK's package state, so do not run them in parallel.
package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/sdk/abi"
	"github.com/switchboard-rt/switchboard/sdk/internal/hook"
)

// Plugin is a plugin under test. A failed call (a trap, a malformed result)
// fails the test.
type Plugin interface {
	Message(tb testing.TB, in *plugins.MessageInput) plugins.Verdict
	Connect(tb testing.TB, in *plugins.ConnectInput) plugins.ConnectVerdict
	// Counters are the plugin's sdk.Count counters so far.
	Counters() map[string]int64
}

// Run runs f twice as subtests: "native" and "wasm" (dir is the plugin's
// package directory, usually ".").
func Run(t *testing.T, dir string, cfg map[string]any, f func(t *testing.T, p Plugin)) {
	t.Run("native", func(t *testing.T) { f(t, Native(t, cfg)) })
	t.Run("wasm", func(t *testing.T) { f(t, Wasm(t, dir, cfg)) })
}

// outSize is the output buffer the native harness gives the guest, the
// same as the SDK's initial buffer in wasm.
const outSize = 64 << 10

type native struct {
	counters map[string]int64
	out      []byte
}

// Native runs the handlers registered in this test binary, after running
// the plugin's init handler with cfg. It fails tb if init fails.
func Native(tb testing.TB, cfg map[string]any) Plugin {
	tb.Helper()
	n, err := startNative(tb, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func startNative(tb testing.TB, cfg map[string]any) (*native, error) {
	tb.Helper()
	if hook.Message == nil {
		tb.Fatal("sdktest: the SDK is not linked into this test binary")
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		b = []byte("{}")
	}
	n := &native{counters: map[string]int64{}, out: make([]byte, outSize)}
	hook.Config = b
	hook.Log = func(level int32, msg string) { tb.Logf("plugin log (%v): %s", slog.Level(level), msg) }
	hook.Count = func(name string, delta int64) { n.counters[name] += delta }
	hook.GrowOut = func(k int) []byte { n.out = make([]byte, max(k, 2*len(n.out))); return n.out }
	if errLen := hook.Init(n.out); errLen > 0 {
		return nil, fmt.Errorf("the plugin rejected its config: %s", n.out[:errLen])
	}
	return n, nil
}

// RejectsConfig checks that the plugin in dir refuses cfg at init, natively
// and under the real host, with an error that contains want.
func RejectsConfig(t *testing.T, dir string, cfg map[string]any, want string) {
	t.Helper()
	_, nativeErr := startNative(t, cfg)
	_, wasmErr := loadWasm(t, dir, cfg)
	for _, r := range []struct {
		name string
		err  error
	}{{"native", nativeErr}, {"wasm", wasmErr}} {
		switch {
		case r.err == nil:
			t.Errorf("%s: config %v accepted, want it refused with %q", r.name, cfg, want)
		case !strings.Contains(r.err.Error(), want):
			t.Errorf("%s: init error %q, want it to contain %q", r.name, r.err, want)
		}
	}
}

func (n *native) Message(tb testing.TB, in *plugins.MessageInput) plugins.Verdict {
	tb.Helper()
	if !hook.HasMessage() {
		tb.Fatal("the plugin has no message handler")
	}
	buf := make([]byte, abi.MessageSize(len(in.Envelope), len(in.Route), len(in.UserID), len(in.Claims), len(in.ConnID), len(in.RemoteAddr)))
	abi.PutMessage(buf, in.Envelope, in.Route, in.UserID, in.Claims, in.ConnID, in.RemoteAddr)
	r := hook.Message(buf, n.out) // may replace n.out (hook.GrowOut)
	v, err := plugins.DecodeVerdict(r, n.out)
	if err != nil {
		tb.Fatalf("plugin result: %v", err)
	}
	return v
}

func (n *native) Connect(tb testing.TB, in *plugins.ConnectInput) plugins.ConnectVerdict {
	tb.Helper()
	if !hook.HasConnect() {
		tb.Fatal("the plugin has no connect handler")
	}
	req, err := plugins.ConnectRequest(in)
	if err != nil {
		tb.Fatal(err)
	}
	r := hook.Connect(req, n.out)
	v, err := plugins.DecodeConnectVerdict(r, n.out)
	if err != nil {
		tb.Fatalf("plugin result: %v", err)
	}
	return v
}

func (n *native) Counters() map[string]int64 { return n.counters }

type wasm struct{ p *plugins.Plugin }

// Wasm builds the plugin in dir (cached by content hash, see
// internal/wasmbuild) and loads it with cfg under a real plugins.Host.
func Wasm(tb testing.TB, dir string, cfg map[string]any) Plugin {
	tb.Helper()
	w, err := loadWasm(tb, dir, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func loadWasm(tb testing.TB, dir string, cfg map[string]any) (wasm, error) {
	tb.Helper()
	h := plugins.NewHost(plugins.HostOptions{
		Logger: slog.New(slog.NewTextHandler(tbWriter{tb}, nil)),
	})
	tb.Cleanup(func() { h.Close(context.Background()) })
	p, err := h.Load(context.Background(), &plugins.Spec{
		Name: "test", Source: wasmbuild.Build(tb, dir), Config: cfg, Pool: 1, Timeout: time.Second,
	})
	return wasm{p}, err
}

func (w wasm) check(tb testing.TB, before uint64) {
	tb.Helper()
	if s := w.p.Stats(); s.Failures.Total() != before {
		tb.Fatalf("the plugin failed (see the log above): %+v", s.Failures)
	}
}

func (w wasm) Message(tb testing.TB, in *plugins.MessageInput) plugins.Verdict {
	tb.Helper()
	before := w.p.Stats().Failures.Total()
	v := w.p.HandleMessage(context.Background(), in)
	w.check(tb, before)
	return v
}

func (w wasm) Connect(tb testing.TB, in *plugins.ConnectInput) plugins.ConnectVerdict {
	tb.Helper()
	before := w.p.Stats().Failures.Total()
	v := w.p.HandleConnect(context.Background(), in)
	w.check(tb, before)
	return v
}

func (w wasm) Counters() map[string]int64 { return w.p.Stats().Counters }

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(b []byte) (int, error) {
	w.tb.Log(string(b))
	return len(b), nil
}
