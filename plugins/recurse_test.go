package plugins

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recurseTimeout is the timeout of the recursion tests: issue 9's 10ms.
const recurseTimeout = 10 * time.Millisecond

// TestRecursionTimeout: a guest whose work is calls without any loop is
// stopped at its timeout like a loop is, with failure kind timeout (before
// function entries were checked, f(28) ran for seconds and was allowed).
func TestRecursionTimeout(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "recurse", "testdata/recurse.wat", nil, func(pc *Spec) { pc.Timeout = recurseTimeout })
	for i, route := range []string{"binary", "mutual"} {
		waitInstances(t, p, 1)
		start := time.Now()
		got := p.HandleMessage(ctx, msg(route))
		d := time.Since(start)
		if got.Code != CodePluginError || p.Stats().Failures.Timeout != uint64(i+1) {
			t.Fatalf("%s: got %+v after %v, failures %+v", route, got, d, p.Stats().Failures)
		}
		// The bound is the timeout plus one yield interval (microseconds
		// here); the margin is for a loaded machine, not a target.
		t.Logf("%s stopped after %v (timeout %v)", route, d, recurseTimeout)
		if d > recurseTimeout+time.Second {
			t.Errorf("%s stopped after %v; timeout is %v", route, d, recurseTimeout)
		}
	}
	// Recursion that ends is not disturbed, and every exit (return, the
	// end, a br to the function's label) gives its stack budget back:
	// 100 calls of 3000 nested frames each would overflow otherwise.
	waitInstances(t, p, 1)
	for range 100 {
		if got := p.HandleMessage(ctx, msg("deep")); got.Action != Allow {
			t.Fatalf("deep: %+v, failures %+v", got, p.Stats().Failures)
		}
	}
}

// TestRecursionYields: while a recursing guest runs, garbage collections
// (which stop the world) complete: the guest leaves native code at its
// function entries. With one P, the collections finish while the call
// (10^15 calls, an hour's timeout) runs; closing the host then stops it.
func TestRecursionYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "recurse", "testdata/recurse.wat", nil, func(pc *Spec) { pc.Timeout = time.Hour })
	var callEnded atomic.Bool
	started, gcDone := make(chan struct{}), make(chan bool)
	go func() {
		<-started
		for range 3 {
			runtime.GC()
		}
		gcDone <- callEnded.Load()
	}()
	callDone := make(chan Verdict, 1)
	go func() {
		close(started)
		v := p.HandleMessage(ctx, msg("endless"))
		callEnded.Store(true)
		callDone <- v
	}()
	if <-gcDone {
		t.Fatal("the call ended before 3 collections could run beside it")
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-callDone; got.Code != CodePluginError || p.Stats().Failures.Unavailable != 1 {
		t.Fatalf("got %+v, failures %+v", got, p.Stats().Failures)
	}
}

// overflowHeapBound is the host heap four overflowing calls may allocate
// between them (wazero's stack for each, and their instances' replacements):
// see docs/RATIONALE.md. Without a stack budget each took ~400 MB.
const overflowHeapBound = 64 << 20

// TestRecursionOverflow: unbounded self-recursion traps at the stack
// budget with kind stack, four calls at once, and allocates a bounded
// amount of host memory.
func TestRecursionOverflow(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "recurse", "testdata/recurse.wat", nil, func(pc *Spec) {
		pc.Timeout = 5 * time.Second // the stack, not the time, must stop it
		pc.Pool = 4
	})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	verdicts := make([]Verdict, 4)
	for i := range verdicts {
		wg.Go(func() { verdicts[i] = p.HandleMessage(ctx, msg("overflow")) })
	}
	wg.Wait()
	waitInstances(t, p, 4)
	runtime.ReadMemStats(&after)
	for i, v := range verdicts {
		if v.Code != CodePluginError {
			t.Errorf("call %d: %+v", i, v)
		}
	}
	if f := p.Stats().Failures; f.Stack != 4 || f.Total() != 4 {
		t.Fatalf("failures %+v, want 4 of kind stack", f)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("4 overflows allocated %d KiB (%d KiB each)", alloc>>10, alloc>>12)
	if alloc > overflowHeapBound {
		t.Fatalf("4 overflows allocated %d MiB, bound %d MiB", alloc>>20, overflowHeapBound>>20)
	}
	// A fresh instance works.
	if got := p.HandleMessage(ctx, msg("allow")); got.Action != Allow {
		t.Fatalf("after the overflows: %+v", got)
	}
}

// TestCloseStopsCalls: closing the host stops a running call at its next
// yield instead of letting it run to its timeout (here an hour).
func TestCloseStopsCalls(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "recurse", "testdata/recurse.wat", nil, func(pc *Spec) { pc.Timeout = time.Hour })
	done := make(chan Verdict, 1)
	go func() { done <- p.HandleMessage(ctx, msg("endless")) }()
	for p.Stats().Calls == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got.Code != CodePluginError || p.Stats().Failures.Unavailable != 1 {
		t.Fatalf("got %+v, failures %+v", got, p.Stats().Failures)
	}
}
