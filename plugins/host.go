package plugins

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/switchboard-rt/switchboard/internal/plugindefaults"
	"github.com/switchboard-rt/switchboard/sdk/abi"
)

// Defaults for zero fields of Spec; router/config fills the same ones
// (internal/plugindefaults) into a decoded plugin block.
const (
	DefaultTimeout         = plugindefaults.Timeout
	DefaultMemory          = plugindefaults.Memory
	DefaultBreakerFailures = plugindefaults.BreakerFailures // of the last DefaultBreakerWindow calls
	DefaultBreakerWindow   = plugindefaults.BreakerWindow
	DefaultBreakerUsers    = plugindefaults.BreakerUsers
	DefaultBreakerCooldown = plugindefaults.BreakerCooldown
)

// HostOptions configures a Host. Zero values are the defaults.
type HostOptions struct {
	// CacheDir holds compiled plugins across runs and across hosts.
	// Default: os.UserCacheDir()/switchboard/wazero; "-" disables the disk
	// cache.
	CacheDir string
	// Logger receives plugin logs and failures. Default: slog.Default().
	Logger *slog.Logger
}

// Host loads and runs the plugins of one config. It is safe for concurrent
// use.
type Host struct {
	log     *slog.Logger
	cache   wazero.CompilationCache
	enforce enforcement // tests and benchmarks only

	mu      sync.Mutex
	plugins []*Plugin
	closed  bool
}

// enforcement is how a Host stops a call that runs past its timeout.
type enforcement int

const (
	enforceStop    enforcement = iota // injected yields metering guest time (meter); falls back to enforceContext
	enforceContext                    // wazero's WithCloseOnContextDone and a deadline per call
	enforceNone                       // no time limit (benchmark baseline only)
)

// NewHost returns a Host. Errors creating the disk cache are logged and the
// Host compiles without it.
func NewHost(opts HostOptions) *Host {
	h := &Host{log: opts.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	dir := opts.CacheDir
	if dir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(d, "switchboard", "wazero")
		}
	}
	if dir != "" && dir != "-" {
		c, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			h.log.Warn("plugin compilation cache disabled", "dir", dir, "error", err)
		} else {
			h.cache = c
		}
	}
	if h.cache == nil {
		h.cache = wazero.NewCompilationCache()
	}
	return h
}

// LoadError is a problem with a plugin block found at Load: the file, the
// module or its config. `switchboard validate` reports it at the source attribute.
type LoadError struct {
	Plugin string // the block's name
	Source string
	Err    error
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("plugin %q (%s): %v", e.Plugin, e.Source, e.Err)
}
func (e *LoadError) Unwrap() error { return e.Err }

// Load compiles the plugin and pre-warms its pool of instances. Errors are
// *LoadError and say what is wrong: a missing file, not WebAssembly, a
// missing export, a wrong ABI version, or a config the plugin's init
// rejected.
func (h *Host) Load(ctx context.Context, pc *Spec) (*Plugin, error) {
	p, err := h.load(ctx, pc)
	if err != nil {
		return nil, &LoadError{Plugin: pc.Name, Source: pc.Source, Err: err}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		p.close(ctx)
		return nil, &LoadError{Plugin: pc.Name, Source: pc.Source, Err: errors.New("host is closed")}
	}
	h.plugins = append(h.plugins, p)
	return p, nil
}

func (h *Host) load(ctx context.Context, pc *Spec) (_ *Plugin, err error) {
	bin := pc.Wasm
	if bin == nil {
		bin, err = os.ReadFile(pc.Source)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no such file; build it first (for a Go plugin: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o %s <package>)", pc.Source)
		}
		return nil, err
	}
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly module (no \\0asm header)")
	}
	p := &Plugin{
		name:     pc.Name,
		source:   pc.Source,
		timeout:  pc.Timeout,
		memory:   pc.Memory,
		allow:    pc.OnError == "allow",
		log:      h.log.With("plugin", pc.Name),
		logs:     newLogLimiter("plugin log lines dropped"),
		failLogs: newLogLimiter("plugin failure lines dropped"),
		done:     make(chan struct{}),
	}
	switch pc.OnError {
	case "", "reject", "allow":
	default:
		return nil, fmt.Errorf("on_error = %q: want \"reject\" or \"allow\"", pc.OnError)
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.memory <= 0 {
		p.memory = DefaultMemory
	}
	br := pc.Breaker
	p.brk = breaker{threshold: br.Failures, window: int64(br.Window), users: br.Users, cooldown: br.Cooldown, log: p.log}
	switch {
	case p.brk.threshold < 0: // failures = -1: off
		p.brk.threshold = 0
	case p.brk.threshold == 0:
		p.brk.threshold = DefaultBreakerFailures
	}
	if p.brk.window <= 0 {
		p.brk.window = DefaultBreakerWindow
	}
	// router/config checks these; a Go caller's out-of-range values are
	// clamped so that the breaker can open.
	p.brk.window = max(p.brk.window, int64(p.brk.threshold))
	if p.brk.users <= 0 {
		p.brk.users = DefaultBreakerUsers
	}
	p.brk.users = max(1, min(p.brk.users, p.brk.threshold))
	if p.brk.cooldown <= 0 {
		p.brk.cooldown = DefaultBreakerCooldown
	}
	pages := p.memory / 65536
	if pages < 1 || pages > 65536 {
		return nil, fmt.Errorf("memory = %d bytes: want between 64KiB and 4GiB", p.memory)
	}
	size := pc.Pool
	if size <= 0 {
		size = 2 * runtime.GOMAXPROCS(0)
	}
	if p.configJSON, err = json.Marshal(pc.Config); err != nil {
		return nil, fmt.Errorf("config is not JSON-compatible: %v", err)
	}
	if pc.Config == nil {
		p.configJSON = []byte("{}")
	}

	p.enforce = h.enforce
	if p.enforce == enforceStop {
		if inj, err := injectStop(bin); err != nil {
			p.log.Warn("cannot inject timeout checks; using wazero's close-on-context-done, which costs more per call and counts wall-clock time", "error", err)
			p.enforce = enforceContext
		} else {
			bin, p.maxPages, p.hasStart = inj.bin, inj.maxPages, inj.start
		}
	}

	// The memory limit is enforced by each instance's allocator (see
	// limitedMemory), which knows when a grow was refused.
	rc := wazero.NewRuntimeConfig().
		WithCompilationCache(h.cache).
		WithCloseOnContextDone(p.enforce == enforceContext)
	p.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	defer func() {
		if err != nil {
			p.rt.Close(ctx)
		}
	}()
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, p.rt); err != nil {
		return nil, err
	}
	if err := p.instantiateHostModule(ctx); err != nil {
		return nil, err
	}
	if p.compiled, err = p.rt.CompileModule(ctx, bin); err != nil {
		return nil, fmt.Errorf("invalid WebAssembly: %v", err)
	}
	if err := p.checkModule(); err != nil {
		return nil, err
	}

	p.idle = make(chan *instance, size)
	for range size {
		inst, err := p.instantiate(ctx)
		if err != nil {
			return nil, err
		}
		p.idle <- inst
	}
	return p, nil
}

// checkModule explains what is missing before instantiation would fail
// with a less helpful message.
func (p *Plugin) checkModule() error {
	exports := p.compiled.ExportedFunctions()
	if _, ok := exports[abi.ExportVersion]; !ok {
		if _, cmd := exports["_start"]; cmd {
			return errors.New("built as a command: build Go plugins with -buildmode=c-shared (and the Switchboard SDK)")
		}
		return fmt.Errorf("missing export %q: is it a Switchboard plugin? (Go: import the SDK; see plugins/ABI.md)", abi.ExportVersion)
	}
	for _, name := range []string{abi.ExportInit, abi.ExportReserve} {
		if _, ok := exports[name]; !ok {
			return fmt.Errorf("missing export %q (see plugins/ABI.md)", name)
		}
	}
	_, p.hasMessage = exports[abi.ExportMessage]
	_, p.hasConnect = exports[abi.ExportConnect]
	if !p.hasMessage && !p.hasConnect {
		return fmt.Errorf("exports neither %q nor %q: the plugin handles no phase", abi.ExportMessage, abi.ExportConnect)
	}
	mem, ok := p.compiled.ExportedMemories()[abi.ExportMemory]
	if !ok {
		return fmt.Errorf("missing export %q", abi.ExportMemory)
	}
	if need := uint64(mem.Min()) * 65536; need > uint64(p.memory) {
		return fmt.Errorf("the module starts with %d KiB of memory, more than memory = %d KiB allows", need>>10, p.memory>>10)
	}
	for _, f := range p.compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != abi.ImportModule && mod != wasi_snapshot_preview1.ModuleName {
			return fmt.Errorf("imports %s.%s: plugins may import only %q and %q", mod, name, abi.ImportModule, wasi_snapshot_preview1.ModuleName)
		}
	}
	return nil
}

// instantiate makes a ready instance: Go runtime started, ABI version
// checked, init run, buffers known.
func (p *Plugin) instantiate(ctx context.Context) (*instance, error) {
	inst := &instance{stack: make([]uint64, 1)}
	inst.out = &lineLogger{log: p.log, limit: p.logs}
	inst.ctx = context.WithValue(context.Background(), instanceKey{}, inst)
	// With injected yields, no guest code may run before the meter holds
	// the $stop global (see injectStop): the start functions are called
	// below instead.
	starts := []string{"_initialize"}
	if p.enforce == enforceStop {
		starts = nil
	}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(starts...).
		WithStdout(inst.out).
		WithStderr(inst.out).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	limit := uint64(p.memory)
	if p.maxPages > 0 {
		limit = min(limit, uint64(p.maxPages)*65536)
	}
	alloc := experimental.MemoryAllocatorFunc(func(_, _ uint64) experimental.LinearMemory {
		inst.memory = &limitedMemory{limit: limit}
		return inst.memory
	})
	initCtx := inst.ctx
	if p.enforce == enforceContext {
		var cancel context.CancelFunc
		initCtx, cancel = context.WithTimeout(inst.ctx, initTimeout)
		defer cancel()
	}
	mod, err := p.rt.InstantiateModule(experimental.WithMemoryAllocator(initCtx, alloc), p.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("cannot start an instance: %v", inst.initErr(err))
	}
	inst.mod = mod
	fail := func(err error) (*instance, error) {
		mod.Close(ctx)
		return nil, err
	}
	if p.enforce == enforceStop {
		g, ok := mod.ExportedGlobal(stopExport).(api.MutableGlobal)
		if !ok {
			return fail(errors.New("BUG: injected stop global missing"))
		}
		// Starting counts against initTimeout, not the call timeout;
		// the meter is switched to the call timeout once init is done.
		inst.meter = newMeter(g, &p.closed, initTimeout)
		if inst.depth = mod.ExportedGlobal(depthExport); inst.depth == nil {
			return fail(errors.New("BUG: injected depth global missing"))
		}
		inst.memory.meter = inst.meter
		inst.meter.begin()
		var starts []string
		if p.hasStart {
			starts = append(starts, startExport)
		}
		for _, name := range append(starts, "_initialize") {
			if fn := mod.ExportedFunction(name); fn != nil {
				if _, err := fn.Call(initCtx); err != nil {
					return fail(fmt.Errorf("cannot start an instance: %s failed: %v", name, inst.initErr(err)))
				}
			}
		}
	}
	inst.mem = mod.Memory()
	call := func(name string, params ...uint64) (uint64, error) {
		res, err := mod.ExportedFunction(name).Call(initCtx, params...)
		if err != nil {
			return 0, fmt.Errorf("%s failed: %v", name, inst.initErr(err))
		}
		if len(res) != 1 {
			return 0, fmt.Errorf("%s must return one value", name)
		}
		return res[0], nil
	}
	v, err := call(abi.ExportVersion)
	if err != nil {
		return fail(err)
	}
	if v != abi.Version {
		return fail(fmt.Errorf("plugin ABI version %d, but this Switchboard speaks version %d: rebuild the plugin with a matching SDK", int32(v), abi.Version))
	}
	d, err := call(abi.ExportInit)
	if err != nil {
		return fail(err)
	}
	if err := inst.readDescriptor(uint32(d)); err != nil {
		return fail(fmt.Errorf("%s: %v", abi.ExportInit, err))
	}
	if inst.desc.ErrLen > 0 {
		msg, _ := inst.mem.Read(inst.desc.OutPtr, min(inst.desc.ErrLen, inst.desc.OutCap, 4096))
		return fail(fmt.Errorf("the plugin rejected its config: %s", msg))
	}
	if inst.meter != nil {
		inst.meter.end()
		inst.meter = newMeter(inst.meter.stop, &p.closed, p.timeout)
		inst.memory.meter = inst.meter
	}
	inst.onMessage = mod.ExportedFunction(abi.ExportMessage)
	inst.onConnect = mod.ExportedFunction(abi.ExportConnect)
	inst.reserve = mod.ExportedFunction(abi.ExportReserve)
	p.mu.Lock()
	p.live = append(p.live, inst)
	p.mu.Unlock()
	return inst, nil
}

// initTimeout bounds starting an instance: the guest runtime's start and
// the plugin's init, which parses its config. Init runs at load and again
// whenever an instance is replaced after a failure, on the path of a
// message: a plugin that never returns from it must fail, not hang.
const initTimeout = time.Second

// initErr explains an error from starting an instance that ran out of
// time.
func (inst *instance) initErr(err error) error {
	var exit *sys.ExitError
	if inst.meter != nil && inst.meter.stopped || errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded {
		return fmt.Errorf("did not finish within %v", initTimeout)
	}
	return err
}

func (inst *instance) readDescriptor(ptr uint32) error {
	if ptr == 0 {
		return errors.New("returned no buffer descriptor")
	}
	b, ok := inst.mem.Read(ptr, abi.DescriptorSize)
	if !ok {
		return fmt.Errorf("buffer descriptor at %#x is outside memory", ptr)
	}
	d := abi.ReadDescriptor(b)
	if _, ok := inst.mem.Read(d.InPtr, d.InCap); !ok || d.InCap < abi.MessageHeaderSize {
		return fmt.Errorf("input buffer (%#x, %d bytes) is outside memory or too small", d.InPtr, d.InCap)
	}
	if _, ok := inst.mem.Read(d.OutPtr, d.OutCap); !ok {
		return fmt.Errorf("output buffer (%#x, %d bytes) is outside memory", d.OutPtr, d.OutCap)
	}
	inst.desc, inst.descPtr = d, ptr
	return nil
}

// limitedMemory backs a guest's linear memory and enforces the plugin's
// memory limit itself, rather than through wazero's page limit, so that a
// refused memory.grow is known: whatever the guest does next (a Go guest
// aborts, a C guest may trap or carry on), a failure after a refused grow is
// counted as "memory". It is also where the injected yields land (see
// injectStop): a one-page grow with the guest's $stop global set.
type limitedMemory struct {
	buf     []byte
	limit   uint64
	refused bool   // a grow was refused during the current call
	meter   *meter // set with injected yields, once the instance exists
}

func (m *limitedMemory) Reallocate(size uint64) []byte {
	if m.meter != nil && m.meter.stop.Get() != 0 {
		m.meter.yield()
		return nil // a yield never grows the memory
	}
	if size > m.limit {
		m.refused = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically: guests often grow a page at a time.
	b := make([]byte, size, min(max(size, 2*uint64(cap(m.buf))), m.limit))
	copy(b, m.buf)
	m.buf = b
	return b
}

func (m *limitedMemory) Free() { m.buf = nil }

// Close stops every plugin and frees the runtimes. Calls in flight finish
// first; later calls fail per on_error.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	ps := h.plugins
	h.plugins, h.closed = nil, true
	h.mu.Unlock()
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.close(ctx))
	}
	return errors.Join(errs...)
}

// lineLogger sends a guest's stdout and stderr (Go runtime panics, stray
// prints) to the log, a line at a time. Each instance has its own.
type lineLogger struct {
	log   *slog.Logger
	limit *logLimiter
	buf   []byte
}

var _ io.Writer = (*lineLogger)(nil)

func (l *lineLogger) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := indexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if l.limit.allow(l.log) {
			l.log.Warn("plugin output", "line", string(l.buf[:i]))
		}
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 4096 {
		if l.limit.allow(l.log) {
			l.log.Warn("plugin output", "line", string(l.buf))
		}
		l.buf = l.buf[:0]
	}
	return len(b), nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
