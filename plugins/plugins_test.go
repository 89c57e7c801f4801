package plugins

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

var ctx = context.Background()

func msg(route string) *MessageInput {
	return &MessageInput{
		Envelope:   []byte(`{"type":"` + route + `","text":"hi"}`),
		Route:      route,
		UserID:     "u-42",
		ConnID:     "c-7",
		RemoteAddr: "192.0.2.1:5555",
		Claims:     []byte(`{"role":"admin"}`),
	}
}

// TestConformance runs the same table against the WAT and the Go guest:
// each field of the input reaches the guest, each verdict comes back.
func TestConformance(t *testing.T) {
	cases := []struct {
		route string
		want  Verdict
	}{
		{"allow", Verdict{Action: Allow}},
		{"block", Verdict{Action: Reject, Code: "blocked", Reason: "u-42"}},
		{"echo", Verdict{Action: Transform, Payload: []byte(`{"type":"echo","text":"hi"}`)}},
		{"claims", Verdict{Action: Transform, Payload: []byte(`{"role":"admin"}`)}},
		{"conn", Verdict{Action: Reject, Code: "conn", Reason: "c-7"}},
		{"remote", Verdict{Action: Reject, Code: "remote", Reason: "192.0.2.1:5555"}},
		{"drop", Verdict{Action: Drop}},
		{"move", Verdict{Action: Reroute, Target: "room:lobby"}},
		{"config", Verdict{Action: Transform, Payload: []byte(`{"allow":["example.com"]}`)}},
		{"clock", Verdict{Action: Drop}},
		{"log", Verdict{Action: Allow}},
		{"count", Verdict{Action: Allow}},
	}
	for _, g := range guests {
		t.Run(g.name, func(t *testing.T) {
			h, logs := newHost(t, enforceStop)
			p := load(t, h, "conf_"+g.name, g.src, map[string]any{"allow": []any{"example.com"}}, nil)
			for _, c := range cases {
				if got := p.HandleMessage(ctx, msg(c.route)); !reflect.DeepEqual(got, c.want) {
					t.Errorf("%s: got %+v, want %+v", c.route, got, c.want)
				}
			}
			if l := logs.String(); !strings.Contains(l, `msg="hello from the guest"`) || !strings.Contains(l, "plugin=conf_"+g.name) || !strings.Contains(l, "route=log conn=c-7") {
				t.Errorf("guest log missing or without attributes:\n%s", l)
			}
			s := p.Stats()
			if s.Counters["seen"] != 2 || s.Calls != uint64(len(cases)) || s.Failures.Total() != 0 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

// TestFailures: each failure fails only its message, per on_error; the
// instance is replaced and the next message succeeds.
func TestFailures(t *testing.T) {
	type want struct {
		kind string
		f    func(Failures) uint64
	}
	trap := want{"trap", func(f Failures) uint64 { return f.Trap }}
	exit := want{"exit", func(f Failures) uint64 { return f.Exit }}
	cases := []struct {
		route    string
		wat, gow want
	}{
		{"trap", trap, trap}, // a Go panic aborts: unreachable
		{"loop", want{"timeout", func(f Failures) uint64 { return f.Timeout }}, want{"timeout", func(f Failures) uint64 { return f.Timeout }}},
		{"grow", want{"memory", func(f Failures) uint64 { return f.Memory }}, want{"memory", func(f Failures) uint64 { return f.Memory }}},
		{"exit", exit, exit},
		{"bad", want{"malformed", func(f Failures) uint64 { return f.Malformed }}, want{"malformed", func(f Failures) uint64 { return f.Malformed }}},
		{"big", want{"malformed", func(f Failures) uint64 { return f.Malformed }}, want{"malformed", func(f Failures) uint64 { return f.Malformed }}},
	}
	for _, g := range guests {
		t.Run(g.name, func(t *testing.T) {
			h, logs := newHost(t, enforceStop)
			// A generous timeout: under the race detector, growing to the
			// memory limit takes a while.
			mod := func(pc *Spec) { pc.Memory = 16 << 20; pc.Timeout = 500 * time.Millisecond }
			p := load(t, h, "faulty", g.src, nil, mod)
			lenient := load(t, h, "lenient", g.src, nil, func(pc *Spec) { mod(pc); pc.OnError = "allow" })
			bystander := load(t, h, "bystander", g.src, nil, nil)
			for _, c := range cases {
				w := c.wat
				if g.name == "go" {
					w = c.gow
				}
				before := w.f(p.Stats().Failures)
				start := time.Now()
				got := p.HandleMessage(ctx, msg(c.route))
				if want := (Verdict{Action: Reject, Code: CodePluginError, Reason: "the message could not be checked", Failed: true}); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %+v, want %+v", c.route, got, want)
				}
				if c.route == "loop" {
					if d := time.Since(start); d > 5*time.Second {
						t.Errorf("loop stopped after %v; timeout is 500ms", d)
					}
				}
				if n := w.f(p.Stats().Failures); n != before+1 {
					t.Errorf("%s: %s failures %d → %d, want +1\nlogs:\n%s", c.route, w.kind, before, n, logs.String())
				}
				if !strings.Contains(logs.String(), "kind="+w.kind) {
					t.Errorf("%s: no log of a %s failure", c.route, w.kind)
				}
				if got := lenient.HandleMessage(ctx, msg(c.route)); got.Action != Allow {
					t.Errorf(`%s with on_error = "allow": got %+v`, c.route, got)
				}
				if got := bystander.HandleMessage(ctx, msg("block")); got.Code != "blocked" {
					t.Errorf("%s broke another plugin: %+v", c.route, got)
				}
				waitInstances(t, p, 1)
				if got := p.HandleMessage(ctx, msg("block")); got.Code != "blocked" {
					t.Errorf("after %s: next message got %+v", c.route, got)
				}
			}
		})
	}
}

// TestTimeoutContext checks the fallback (wazero's close-on-context-done)
// used for modules whose code cannot be instrumented.
func TestTimeoutContext(t *testing.T) {
	h, _ := newHost(t, enforceContext)
	p := load(t, h, "ctx", "testdata/conformance.wat", nil, nil)
	if got := p.HandleMessage(ctx, msg("loop")); got.Code != CodePluginError || p.Stats().Failures.Timeout != 1 {
		t.Fatalf("got %+v, stats %+v", got, p.Stats())
	}
	waitInstances(t, p, 1)
	if got := p.HandleMessage(ctx, msg("block")); got.Code != "blocked" {
		t.Fatalf("after timeout: %+v", got)
	}
}

// TestLargeInput grows the guest's input buffer (switchboard_reserve).
func TestLargeInput(t *testing.T) {
	big := `{"type":"echo","text":"` + strings.Repeat("x", 200_000) + `"}`
	for _, g := range guests {
		t.Run(g.name, func(t *testing.T) {
			h, _ := newHost(t, enforceStop)
			p := load(t, h, "big", g.src, nil, nil)
			in := msg("block")
			in.Envelope = []byte(big)
			if got := p.HandleMessage(ctx, in); got.Code != "blocked" {
				t.Fatalf("got %+v", got)
			}
			if g.name == "go" { // the SDK grows its output buffer with the input
				in.Route = "echo"
				if got := p.HandleMessage(ctx, in); string(got.Payload) != big {
					t.Fatalf("echo of %d bytes: got %v with %d bytes", len(big), got.Action, len(got.Payload))
				}
			}
		})
	}
}

func TestConnect(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "auth", "testdata/goguest", nil, nil)
	wat := load(t, h, "wat", "testdata/conformance.wat", nil, nil)
	if !p.HandlesConnect() || wat.HandlesConnect() || !wat.HandlesMessage() {
		t.Fatal("HandlesConnect/HandlesMessage do not match the exports")
	}
	in := &ConnectInput{
		Method: "GET", Path: "/ws", RemoteAddr: "192.0.2.1:1",
		Header:       http.Header{"X-Api-Key": {"secret"}},
		Query:        url.Values{"user": {"alice"}},
		Cookies:      []*http.Cookie{{Name: "sid", Value: "s1"}},
		Subprotocols: []string{"chat", "v2"},
	}
	want := ConnectVerdict{Accept: true, UserID: "alice", Claims: map[string]any{
		"method": "GET", "path": "/ws", "remote": "192.0.2.1:1", "session": "s1", "subprotocols": "chat,v2",
	}}
	if got := p.HandleConnect(ctx, in); !reflect.DeepEqual(got, want) {
		t.Errorf("accept: got %+v, want %+v", got, want)
	}
	in.Header.Set("X-Api-Key", "nope")
	if got := p.HandleConnect(ctx, in); !reflect.DeepEqual(got, ConnectVerdict{Code: "bad_key", Reason: "wrong API key"}) {
		t.Errorf("deny: got %+v", got)
	}
	if got := wat.HandleConnect(ctx, in); got.Accept || got.Code != CodePluginError {
		t.Errorf("plugin without connect handler: %+v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "x.wasm")
	os.WriteFile(text, []byte("hello"), 0o644)
	cases := []struct {
		name   string
		source string
		cfg    map[string]any
		want   string
	}{
		{"missing file", filepath.Join(dir, "nope.wasm"), nil, "no such file; build it first"},
		{"not wasm", text, nil, "not a WebAssembly module"},
		{"missing export", wasm(t, "testdata/noexports.wat"), nil, `missing export "switchboard_abi_version"`},
		{"wrong ABI version", wasm(t, "testdata/badversion.wat"), nil, "plugin ABI version 2, but this Switchboard speaks version 1"},
		{"config rejected (wat)", wasm(t, "testdata/conformance.wat"), map[string]any{"reject": true}, "the plugin rejected its config: config says reject"},
		{"config rejected (go)", wasm(t, "testdata/goguest"), map[string]any{"reject": true}, "the plugin rejected its config: config says reject"},
	}
	h, _ := newHost(t, enforceStop)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.Load(ctx, &Spec{Name: "p", Source: c.source, Config: c.cfg, Pool: 1})
			var le *LoadError
			if !errors.As(err, &le) || le.Plugin != "p" || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a LoadError containing %q", err, c.want)
			}
		})
	}
}

// TestInitTimeLimit: an init that never returns fails the load after
// initTimeout, with either way of stopping guests, instead of hanging it
// (and the replacement of an instance on a message's path with it).
func TestInitTimeLimit(t *testing.T) {
	for _, e := range []enforcement{enforceStop, enforceContext} {
		t.Run(map[enforcement]string{enforceStop: "meter", enforceContext: "context"}[e], func(t *testing.T) {
			h, _ := newHost(t, e)
			_, err := h.Load(ctx, &Spec{Name: "p", Source: wasm(t, "testdata/conformance.wat"), Config: map[string]any{"spin": true}, Pool: 1})
			var le *LoadError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), "did not finish within 1s") {
				t.Fatalf("got %v, want a LoadError saying init did not finish", err)
			}
		})
	}
}

// TestLogLimit: a guest logging in a loop gets logBurst lines into the
// server's log, not thousands, and the next line it is allowed says how
// many were dropped.
func TestLogLimit(t *testing.T) {
	h, logs := newHost(t, enforceStop)
	p := load(t, h, "p", "testdata/conformance.wat", nil, nil)
	if got := p.HandleMessage(ctx, msg("spinlog")); got.Code != CodePluginError {
		t.Fatalf("spinlog: got %+v, want a timeout", got)
	}
	if n := strings.Count(logs.String(), "msg=spinlog"); n < logBurst/2 || n > logBurst+5 {
		t.Fatalf("%d lines logged in one call, want about %d", n, logBurst)
	}
	time.Sleep(200 * time.Millisecond) // the limit lets a line through again
	p.HandleMessage(ctx, msg("log"))
	if out := logs.String(); !strings.Contains(out, `msg="plugin log lines dropped"`) {
		t.Fatalf("no dropped-lines line:\n%s", out[max(0, len(out)-2000):])
	}
}

// TestLoopYields: a spinning guest must not stall the Go runtime. Native
// code cannot be preempted, so without the injected exits to Go a
// stop-the-world (here forced by runtime.GC on a single P) would wait for
// the loop forever: no yield, no time check, no stop.
func TestLoopYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, g := range guests {
		t.Run(g.name, func(t *testing.T) {
			h, _ := newHost(t, enforceStop)
			p := load(t, h, "spin", g.src, nil, func(pc *Spec) { pc.Timeout = 100 * time.Millisecond })
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range 20 {
					runtime.GC()
					time.Sleep(5 * time.Millisecond)
				}
			}()
			if got := p.HandleMessage(ctx, msg("loop")); got.Code != CodePluginError || p.Stats().Failures.Timeout != 1 {
				t.Errorf("got %+v, stats %+v", got, p.Stats())
			}
			<-done
		})
	}
}
