package plugins

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
)

// stallHandler is a slog.Handler whose Handle runs a test-chosen function
// for the guest's log calls: the way a test keeps the calling goroutine
// off the CPU in the middle of a guest call.
type stallHandler struct {
	stall atomic.Pointer[func(msg string)]
}

func (h *stallHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *stallHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *stallHandler) WithGroup(string) slog.Handler            { return h }
func (h *stallHandler) Handle(_ context.Context, r slog.Record) error {
	if f := h.stall.Load(); f != nil {
		(*f)(r.Message)
	}
	return nil
}

func stallHost(t *testing.T) (*Host, *stallHandler) {
	sh := &stallHandler{}
	h := NewHost(HostOptions{CacheDir: filepath.Join(wasmbuild.Dir(), "compiled"), Logger: slog.New(sh)})
	t.Cleanup(func() { h.Close(context.Background()) })
	return h, sh
}

// TestTimeoutIgnoresDelays: the timeout counts time the guest runs, not
// time its goroutine waits. The "stall" route loops 5000 times (crossing
// several exits to Go) and, half-way, calls a host function that keeps the
// goroutine off the CPU for three timeouts: by sleeping, or by yielding to
// a busy goroutine on a single P (what a loaded scheduler does). The call
// did microseconds of work and must succeed. A guest that spins, or that
// is slow at every iteration, is still stopped.
func TestTimeoutIgnoresDelays(t *testing.T) {
	const timeout = 20 * time.Millisecond
	h, sh := stallHost(t)
	p := load(t, h, "stall", "testdata/conformance.wat", nil, func(pc *Spec) { pc.Timeout = timeout })

	sleep := func(msg string) {
		if msg == "stall" {
			time.Sleep(3 * timeout)
		}
	}
	sh.stall.Store(&sleep)
	for i := range 3 {
		start := time.Now()
		if got := p.HandleMessage(ctx, msg("stall")); got.Action != Allow {
			t.Fatalf("sleep %d: a call delayed for %v failed: %+v, stats %+v", i, time.Since(start), got, p.Stats().Failures)
		}
		if d := time.Since(start); d < 3*timeout {
			t.Fatalf("the call took %v: the host function did not stall it", d)
		}
	}

	t.Run("descheduled", func(t *testing.T) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		var busy atomic.Bool
		done := make(chan struct{})
		yield := func(msg string) {
			if msg != "stall" {
				return
			}
			busy.Store(true)
			for start := time.Now(); time.Since(start) < 3*timeout; {
				runtime.Gosched() // the busy goroutine runs until preempted (~10ms)
			}
		}
		go func() { // competes for the only P while the call stalls
			defer close(done)
			for !busy.Load() {
				runtime.Gosched()
			}
			for start := time.Now(); time.Since(start) < 3*timeout; {
			}
		}()
		sh.stall.Store(&yield)
		start := time.Now()
		if got := p.HandleMessage(ctx, msg("stall")); got.Action != Allow {
			t.Fatalf("a call descheduled for %v failed: %+v, stats %+v", time.Since(start), got, p.Stats().Failures)
		}
		<-done
	})

	if f := p.Stats().Failures; f.Total() != 0 {
		t.Fatalf("failures: %+v", f)
	}

	// A guest that spins is stopped, on an idle machine within a few
	// timeouts of wall time.
	sh.stall.Store(nil)
	start := time.Now()
	if got := p.HandleMessage(ctx, msg("loop")); got.Code != CodePluginError || p.Stats().Failures.Timeout != 1 {
		t.Fatalf("loop: got %+v, stats %+v", got, p.Stats().Failures)
	}
	t.Logf("loop stopped after %v (timeout %v)", time.Since(start), timeout)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("loop stopped after %v; timeout is %v", d, timeout)
	}

	// A guest that is slow at every iteration (here in a host function)
	// shows long gaps between all its exits to Go: they count.
	slow := func(string) {
		for start := time.Now(); time.Since(start) < 20*time.Microsecond; {
		}
	}
	sh.stall.Store(&slow)
	waitInstances(t, p, 1)
	start = time.Now()
	if got := p.HandleMessage(ctx, msg("spinlog")); got.Code != CodePluginError || p.Stats().Failures.Timeout != 2 {
		t.Fatalf("spinlog: got %+v, stats %+v", got, p.Stats().Failures)
	}
	t.Logf("spinlog stopped after %v", time.Since(start))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("spinlog stopped after %v; timeout is %v", d, timeout)
	}
}

// TestStartAndMaxMemory: injectStop turns a start function into an export
// the host calls once it can answer the guest's yields (this one loops
// across several), and replaces a declared memory maximum, which would
// keep yields from reaching the host, by the host's own limit.
func TestStartAndMaxMemory(t *testing.T) {
	src, err := os.ReadFile("testdata/conformance.wat")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), `(memory (export "memory") 2)`, `(memory (export "memory") 2 4)`, 1)
	i := strings.LastIndex(text, ")")
	text = text[:i] + `
  (func $start (local $i i32)
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 3000))))
    (call $count (i32.const 184) (i32.const 4) (i64.const 1)))
  (start $start)
)`
	file := filepath.Join(t.TempDir(), "startmax.wat")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	bin, err := wasmbuild.WAT(file)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHost(t, enforceStop)
	p, err := h.Load(ctx, &Spec{Name: "startmax", Source: bin, Pool: 1, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if p.enforce != enforceStop || p.maxPages != 4 || !p.hasStart {
		t.Fatalf("enforce %v, maxPages %d, start %v: not injected", p.enforce, p.maxPages, p.hasStart)
	}
	if n := p.Stats().Counters["seen"]; n != 1 {
		t.Fatalf("the start function ran %d times, want 1", n)
	}
	if got := p.HandleMessage(ctx, msg("stall")); got.Action != Allow {
		t.Fatalf("stall: %+v", got)
	}
	if got := p.HandleMessage(ctx, msg("grow")); got.Code != CodePluginError || p.Stats().Failures.Memory != 1 {
		t.Fatalf("grow past the declared maximum: %+v, %+v", got, p.Stats().Failures)
	}
	waitInstances(t, p, 1)
	if got := p.HandleMessage(ctx, msg("loop")); got.Code != CodePluginError || p.Stats().Failures.Timeout != 1 {
		t.Fatalf("loop: %+v, %+v", got, p.Stats().Failures)
	}
}
