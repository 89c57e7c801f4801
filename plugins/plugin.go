package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

// Plugin is a loaded plugin: a compiled module and a pool of instances. It
// is safe for concurrent use; each call borrows an instance.
type Plugin struct {
	name, source string
	timeout      time.Duration
	memory       int
	allow        bool // on_error = "allow"
	log          *slog.Logger
	logs         *logLimiter // shared by the log import and stdout/stderr
	configJSON   []byte
	enforce      enforcement
	hasMessage   bool
	hasConnect   bool

	rt       wazero.Runtime
	compiled wazero.CompiledModule
	idle     chan *instance // the pool; capacity = pool size
	maxPages uint32         // the memory maximum the module declared, if injectStop removed it
	hasStart bool           // injectStop exported the module's start function

	mu      sync.Mutex
	live    []*instance // every instance not yet retired, idle or busy
	retired uint64      // calls made by retired instances
	refills sync.WaitGroup
	done    chan struct{} // closed by close
	closed  atomic.Bool

	failures [numKinds]atomic.Uint64
	counters counters
	brk      breaker
	failLogs *logLimiter // "plugin failed" lines: a guest's output cannot crowd them out
}

// instance is one module instance with everything a call needs, made once.
// It is used by one goroutine at a time (whoever took it from the pool).
type instance struct {
	mod       api.Module
	mem       api.Memory
	ctx       context.Context // carries the instance to host functions
	onMessage api.Function
	onConnect api.Function
	reserve   api.Function
	stack     []uint64
	desc      abi.Descriptor
	descPtr   uint32     // where init or reserve last returned the descriptor
	meter     *meter     // times calls (enforceStop)
	depth     api.Global // the injected $depth global (enforceStop)
	memory    *limitedMemory
	out       *lineLogger
	cur       *MessageInput // the message being handled, for log attributes
	calls     atomic.Uint64
}

type instanceKey struct{}

// Name is the plugin block's name.
func (p *Plugin) Name() string { return p.name }

// HandlesMessage reports whether the plugin exports the message phase.
func (p *Plugin) HandlesMessage() bool { return p.hasMessage }

// HandlesConnect reports whether the plugin exports the connect phase.
func (p *Plugin) HandlesConnect() bool { return p.hasConnect }

// HandleMessage runs the plugin on one message. It never panics and never
// returns an error: a failing plugin yields the on_error verdict.
func (p *Plugin) HandleMessage(ctx context.Context, in *MessageInput) Verdict {
	if !p.hasMessage {
		return p.failed(nil, kindUnavailable, errors.New("the plugin has no message handler (switchboard_on_message)"), in)
	}
	if !p.brk.allow() {
		return p.failed(nil, kindBreaker, nil, in)
	}
	inst, err := p.acquire(ctx)
	if err != nil {
		return p.failed(nil, kindUnavailable, err, in)
	}
	size := abi.MessageSize(len(in.Envelope), len(in.Route), len(in.UserID), len(in.Claims), len(in.ConnID), len(in.RemoteAddr))
	if uint64(size) > uint64(inst.desc.InCap) {
		if err := p.grow(inst, size); errors.Is(err, errDeclined) {
			p.release(inst)
			return p.tooLarge("message", size, err)
		} else if err != nil {
			return p.failed(inst, kindMemory, err, in)
		}
	}
	buf, ok := inst.mem.Read(inst.desc.InPtr, uint32(size))
	if !ok {
		return p.failed(inst, kindMalformed, errors.New("input buffer is outside memory"), in)
	}
	abi.PutMessage(buf, in.Envelope, in.Route, in.UserID, in.Claims, in.ConnID, in.RemoteAddr)
	inst.stack[0] = uint64(size)
	inst.cur = in
	kind, err := p.call(inst, inst.onMessage)
	inst.cur = nil
	if err != nil {
		return p.failed(inst, kind, err, in)
	}
	out, err := inst.output(inst.stack[0])
	if err != nil {
		return p.failed(inst, kindMalformed, err, in)
	}
	v, err := DecodeVerdict(inst.stack[0], out)
	if err != nil {
		return p.failed(inst, kindMalformed, err, in)
	}
	p.release(inst)
	p.brk.success()
	return v
}

// HandleConnect runs the plugin's connect phase on an upgrade request.
// Failures reject the connection (code "plugin_error") whatever on_error
// says: letting a client in without an identity is never the safe choice.
func (p *Plugin) HandleConnect(ctx context.Context, in *ConnectInput) ConnectVerdict {
	fail := func(inst *instance, kind failureKind, err error) ConnectVerdict {
		p.fail(inst, kind, err, remoteHost(in.RemoteAddr), slog.String("phase", "connect"), slog.String("remote", in.RemoteAddr))
		return ConnectVerdict{Code: CodePluginError, Reason: "the connection could not be checked"}
	}
	if !p.hasConnect {
		return fail(nil, kindUnavailable, errors.New("the plugin has no connect handler (switchboard_on_connect)"))
	}
	req, err := ConnectRequest(in)
	if err != nil {
		return fail(nil, kindUnavailable, err)
	}
	if !p.brk.allow() {
		return fail(nil, kindBreaker, nil)
	}
	inst, err := p.acquire(ctx)
	if err != nil {
		return fail(nil, kindUnavailable, err)
	}
	if uint64(len(req)) > uint64(inst.desc.InCap) {
		if err := p.grow(inst, len(req)); errors.Is(err, errDeclined) {
			p.release(inst)
			v := p.tooLarge("connection request", len(req), err)
			return ConnectVerdict{Code: v.Code, Reason: v.Reason}
		} else if err != nil {
			return fail(inst, kindMemory, err)
		}
	}
	if !inst.mem.Write(inst.desc.InPtr, req) {
		return fail(inst, kindMalformed, errors.New("input buffer is outside memory"))
	}
	inst.stack[0] = uint64(len(req))
	kind, err := p.call(inst, inst.onConnect)
	if err != nil {
		return fail(inst, kind, err)
	}
	out, err := inst.output(inst.stack[0])
	if err != nil {
		return fail(inst, kindMalformed, err)
	}
	v, err := DecodeConnectVerdict(inst.stack[0], out)
	if err != nil {
		return fail(inst, kindMalformed, err)
	}
	p.release(inst)
	p.brk.success()
	return v
}

// acquire borrows an idle instance, waiting while all are busy (or being
// replaced) until ctx ends.
func (p *Plugin) acquire(ctx context.Context) (*instance, error) {
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
	}
	select {
	case inst := <-p.idle:
		return inst, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no instance became free: %w", context.Cause(ctx))
	case <-p.done:
		return nil, errors.New("plugin is closed")
	}
}

func (p *Plugin) release(inst *instance) { p.idle <- inst }

// remoteHost is the host of a host:port address: a connect call's sender
// for the breaker (every connection has its own port).
func remoteHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// grow asks the guest for a larger input buffer (switchboard_reserve).
func (p *Plugin) grow(inst *instance, size int) error {
	if size > maxInput {
		return fmt.Errorf("%w: the host passes at most %d bytes", errDeclined, maxInput)
	}
	inst.stack[0] = uint64(size)
	if _, err := p.call(inst, inst.reserve); err != nil {
		return fmt.Errorf("%s(%d): %v", abi.ExportReserve, size, err)
	}
	if inst.stack[0] == 0 {
		return fmt.Errorf("%w: %s(%d) returned 0", errDeclined, abi.ExportReserve, size)
	}
	if err := inst.readDescriptor(uint32(inst.stack[0])); err != nil {
		return fmt.Errorf("%s(%d): %v", abi.ExportReserve, size, err)
	}
	if uint64(inst.desc.InCap) < uint64(size) {
		return fmt.Errorf("%s(%d) left the input buffer at %d bytes", abi.ExportReserve, size, inst.desc.InCap)
	}
	return nil
}

// call runs fn on inst within the plugin's timeout. On error it says what
// kind of failure it was.
func (p *Plugin) call(inst *instance, fn api.Function) (failureKind, error) {
	inst.calls.Add(1)
	inst.memory.refused = false
	var err error
	switch p.enforce {
	case enforceStop:
		inst.meter.begin()
		err = fn.CallWithStack(inst.ctx, inst.stack)
		if inst.meter.end() {
			if p.closed.Load() {
				return kindUnavailable, errors.New("stopped: the plugin is closing")
			}
			return kindTimeout, fmt.Errorf("ran for longer than the %v timeout", p.timeout)
		}
	case enforceContext:
		ctx, cancel := context.WithTimeout(inst.ctx, p.timeout)
		err = fn.CallWithStack(ctx, inst.stack)
		cancel()
		var exit *sys.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded {
			return kindTimeout, fmt.Errorf("ran longer than the %v timeout", p.timeout)
		}
	default:
		err = fn.CallWithStack(inst.ctx, inst.stack)
	}
	if err == nil {
		return 0, nil
	}
	if p.closed.Load() {
		return kindUnavailable, fmt.Errorf("stopped: the plugin is closing: %w", err)
	}
	if inst.depth != nil && int32(inst.depth.Get()) == depthOverflow {
		return kindStack, fmt.Errorf("calls nested deeper than the stack budget: %w", err)
	}
	if strings.Contains(err.Error(), "stack overflow") { // wazero's own limit (enforceContext)
		return kindStack, err
	}
	if inst.memory.refused {
		return kindMemory, fmt.Errorf("memory limit (%d KiB) reached: %w", p.memory>>10, err)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return kindExit, err
	}
	return kindTrap, err
}

// failed handles a failed message: count, log, replace the instance, and
// answer per on_error.
func (p *Plugin) failed(inst *instance, kind failureKind, err error, in *MessageInput) Verdict {
	p.fail(inst, kind, err, in.UserID, slog.String("route", in.Route), slog.String("conn", in.ConnID))
	v := Verdict{Action: Reject, Code: CodePluginError, Reason: "the message could not be checked"}
	if p.allow {
		v = Verdict{Action: Allow}
	}
	v.Failed = kind != kindUnavailable && kind != kindBreaker
	return v
}

// fail counts a failed call against the breaker by sender (a user ID, or
// a connect call's remote host), logs it within the plugin's log rate, and
// retires the instance.
func (p *Plugin) fail(inst *instance, kind failureKind, err error, sender string, attrs ...slog.Attr) {
	p.failures[kind].Add(1)
	if kind == kindBreaker {
		return // not logged per call: the breaker logs when it opens and closes
	}
	p.brk.failure(sender)
	// Failure lines (each with a wasm stack trace) have the guest's log
	// rate, on a budget of their own: a storm of failures logs a bounded
	// volume, and a guest's own output does not hide them.
	if p.failLogs.allow(p.log) {
		args := []any{slog.String("kind", kind.String()), slog.String("error", err.Error())}
		for _, a := range attrs {
			args = append(args, a)
		}
		p.log.Warn("plugin failed", args...)
	}
	if inst != nil {
		p.retire(inst)
	}
}

// retire closes a broken instance and starts a replacement in the
// background, so the failing call does not pay for instantiation.
func (p *Plugin) retire(inst *instance) {
	p.mu.Lock()
	for i, x := range p.live {
		if x == inst {
			p.live = append(p.live[:i], p.live[i+1:]...)
			break
		}
	}
	p.retired += inst.calls.Load()
	closed := p.closed.Load()
	if !closed {
		p.refills.Add(1)
	}
	p.mu.Unlock()
	inst.mod.Close(context.Background())
	if closed {
		return
	}
	go func() {
		defer p.refills.Done()
		backoff := 50 * time.Millisecond
		for !p.closed.Load() {
			inst, err := p.instantiate(context.Background())
			if err == nil {
				p.idle <- inst
				return
			}
			p.log.Error("cannot replace a plugin instance; retrying", "error", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-p.done:
				return
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
}

func (p *Plugin) close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed.Swap(true) {
		p.mu.Unlock()
		return nil
	}
	close(p.done)
	p.mu.Unlock()
	p.refills.Wait()
	p.waitCalls(ctx)
	return p.rt.Close(ctx) // closes every instance
}

// waitCalls waits until no call is running, or ctx ends: closing the
// runtime under a running call is a data race in wazero. With closed set,
// metered calls stop at their next yield (microseconds); each then returns
// its instance to the pool or retires it.
//
// A call holds its instance for as long as it runs, so collecting every
// live instance from the pool is waiting for every call: no counter on
// the hot path. (A failed call retires its instance instead, shrinking
// live; hence the re-check.)
func (p *Plugin) waitCalls(ctx context.Context) {
	held := 0
	for {
		p.mu.Lock()
		live := len(p.live)
		p.mu.Unlock()
		if held >= live {
			return
		}
		select {
		case <-p.idle:
			held++
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}
