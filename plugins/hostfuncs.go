package plugins

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
	"golang.org/x/time/rate"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

// maxLogLine bounds one guest log message.
const maxLogLine = 4096

// A plugin may write logLines lines per second to the server's log, in
// bursts of up to logBurst: a guest that logs in a loop would otherwise
// write thousands of lines per call before its timeout stops it.
const (
	logLines = 20
	logBurst = 100
)

// logLimiter drops a plugin's log lines beyond its rate and says how many
// it dropped (as msg) with the next line it lets through.
type logLimiter struct {
	lim     *rate.Limiter
	msg     string
	dropped atomic.Int64
}

func newLogLimiter(msg string) *logLimiter {
	return &logLimiter{lim: rate.NewLimiter(logLines, logBurst), msg: msg}
}

func (l *logLimiter) allow(log *slog.Logger) bool {
	if !l.lim.Allow() {
		l.dropped.Add(1)
		return false
	}
	if n := l.dropped.Swap(0); n > 0 {
		log.Warn(l.msg, "lines", n, "limit_per_second", logLines, "burst", logBurst)
	}
	return true
}

// instantiateHostModule provides the "switchboard" imports to this
// plugin's runtime. The functions are api.GoModuleFunc (no reflection) and
// find the calling instance through the context each instance carries.
func (p *Plugin) instantiateHostModule(ctx context.Context) error {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	b := p.rt.NewHostModuleBuilder(abi.ImportModule)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(p.hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").Export(abi.ImportLog)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(p.hostConfig), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("ptr", "cap").Export(abi.ImportConfig)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostNow), nil, []api.ValueType{i64}).
		Export(abi.ImportNow)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(p.hostCount), []api.ValueType{i32, i32, i64}, nil).
		WithParameterNames("name_ptr", "name_len", "delta").Export(abi.ImportCount)
	_, err := b.Instantiate(ctx)
	return err
}

func (p *Plugin) hostLog(ctx context.Context, m api.Module, stack []uint64) {
	level, ptr, n := int32(stack[0]), uint32(stack[1]), uint32(stack[2])
	// The whole message is checked, whether or not it is logged: a bad
	// pointer traps the same at every level and rate.
	msg, ok := m.Memory().Read(ptr, n)
	if !ok {
		panic("log: message is outside memory") // traps the guest
	}
	if !p.log.Enabled(ctx, slog.Level(level)) || !p.logs.allow(p.log) {
		return
	}
	msg = msg[:min(n, maxLogLine)]
	var attrs []slog.Attr
	if inst, _ := ctx.Value(instanceKey{}).(*instance); inst != nil && inst.cur != nil {
		attrs = append(attrs, slog.String("route", inst.cur.Route), slog.String("conn", inst.cur.ConnID))
	}
	p.log.LogAttrs(context.Background(), slog.Level(level), string(msg), attrs...)
}

func (p *Plugin) hostConfig(_ context.Context, m api.Module, stack []uint64) {
	ptr, capacity := uint32(stack[0]), uint32(stack[1])
	if uint64(capacity) >= uint64(len(p.configJSON)) && len(p.configJSON) > 0 {
		if !m.Memory().Write(ptr, p.configJSON) {
			panic("config: buffer is outside memory")
		}
	}
	stack[0] = uint64(len(p.configJSON))
}

func hostNow(_ context.Context, _ api.Module, stack []uint64) {
	stack[0] = uint64(time.Now().UnixNano())
}

func (p *Plugin) hostCount(_ context.Context, m api.Module, stack []uint64) {
	ptr, n, delta := uint32(stack[0]), uint32(stack[1]), int64(stack[2])
	name, ok := m.Memory().Read(ptr, n)
	if !ok || n == 0 || n > 128 {
		panic("count: name is empty, too long or outside memory")
	}
	if !p.counters.add(name, delta) {
		p.log.Warn("plugin counter dropped: too many distinct counters", "counter", string(name), "max", maxCounters)
	}
}
