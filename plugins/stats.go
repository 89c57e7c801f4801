package plugins

import (
	"sync"
	"sync/atomic"
)

type failureKind uint8

const (
	kindTrap        failureKind = iota // the guest trapped (unreachable, out-of-bounds access...)
	kindTimeout                        // the call ran past the timeout and was stopped
	kindMemory                         // the guest hit its memory limit
	kindExit                           // the guest called proc_exit (a Go panic ends this way)
	kindMalformed                      // the result broke the ABI's rules
	kindUnavailable                    // no instance became free in time, or the plugin cannot handle the phase
	kindStack                          // the guest's calls nested deeper than its stack budget
	kindBreaker                        // the plugin's circuit breaker was open: the call was not made
	numKinds
)

func (k failureKind) String() string { return FailureKinds[k] }

// Stats is a snapshot of a plugin's counters.
type Stats struct {
	Calls     uint64 // guest calls, including failed ones
	Instances int    // live instances (the pool size, minus those being replaced)
	Failures  Failures
	// Counters are the plugin's own counters (sdk.Count, the "count" import).
	Counters map[string]int64
	// BreakerOpen reports that the circuit breaker is open: calls fail at
	// once (until the first call after its cooldown); BreakerOpens counts
	// the times it opened.
	BreakerOpen  bool
	BreakerOpens uint64
}

// Failures counts failed calls by kind. BreakerOpen counts calls refused
// at once because the plugin's circuit breaker was open.
type Failures struct {
	Trap, Timeout, Memory, Exit, Malformed, Unavailable, Stack, BreakerOpen uint64
}

// Total is the number of failed calls.
func (f Failures) Total() uint64 {
	return f.Trap + f.Timeout + f.Memory + f.Exit + f.Malformed + f.Unavailable + f.Stack + f.BreakerOpen
}

// FailureKinds are the failure kinds as they appear in logs and metrics,
// in the order of ByKind.
var FailureKinds = [...]string{"trap", "timeout", "memory", "exit", "malformed", "unavailable", "stack", "breaker_open"}

// ByKind returns the counts in the order of FailureKinds.
func (f Failures) ByKind() [len(FailureKinds)]uint64 {
	return [...]uint64{f.Trap, f.Timeout, f.Memory, f.Exit, f.Malformed, f.Unavailable, f.Stack, f.BreakerOpen}
}

// Stats returns a snapshot of the plugin's counters.
func (p *Plugin) Stats() Stats {
	p.mu.Lock()
	s := Stats{Calls: p.retired, Instances: len(p.live)}
	for _, inst := range p.live {
		s.Calls += inst.calls.Load()
	}
	p.mu.Unlock()
	f := &p.failures
	s.Failures = Failures{
		Trap: f[kindTrap].Load(), Timeout: f[kindTimeout].Load(), Memory: f[kindMemory].Load(),
		Exit: f[kindExit].Load(), Malformed: f[kindMalformed].Load(), Unavailable: f[kindUnavailable].Load(),
		Stack: f[kindStack].Load(), BreakerOpen: f[kindBreaker].Load(),
	}
	s.Counters = p.counters.snapshot()
	s.BreakerOpen, s.BreakerOpens = p.brk.isOpen(), p.brk.opens.Load()
	return s
}

// maxCounters bounds how many distinct counter names a plugin may create,
// so a buggy guest cannot grow host memory without limit.
const maxCounters = 256

type counters struct {
	mu sync.RWMutex
	m  map[string]*atomic.Int64
}

// add adds delta to counter name; name is guest memory and is copied only
// when the counter is new. It reports false when the counter was refused.
func (c *counters) add(name []byte, delta int64) bool {
	c.mu.RLock()
	v := c.m[string(name)]
	c.mu.RUnlock()
	if v == nil {
		c.mu.Lock()
		if v = c.m[string(name)]; v == nil {
			if len(c.m) >= maxCounters {
				c.mu.Unlock()
				return false
			}
			if c.m == nil {
				c.m = map[string]*atomic.Int64{}
			}
			v = new(atomic.Int64)
			c.m[string(name)] = v
		}
		c.mu.Unlock()
	}
	v.Add(delta)
	return true
}

func (c *counters) snapshot() map[string]int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		m[k] = v.Load()
	}
	return m
}
