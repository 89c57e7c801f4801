package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sustainedRatio is the share of deliveries a step must make to count as
// sustained (with p99 latency at most FanoutOptions.MaxP99).
const sustainedRatio = 0.999

// maxSteps bounds --steps; the per-step stats are allocated up front so
// receivers can index them without locking.
const maxSteps = 32

// FanoutOptions configures the fan-out scenario.
type FanoutOptions struct {
	Members       int           // connections in the room (publishers included)
	Rate          float64       // messages/s of the first step
	Step          float64       // factor between steps; <= 1: one step only
	Steps         int           // at most this many steps
	Duration      time.Duration // sending time per step
	PublisherRate float64       // messages/s per publishing connection; 0: one publisher
	Room          string
	MaxP99        time.Duration // a step with a higher p99 is not sustained
}

// FanoutStep is one rate's outcome.
type FanoutStep struct {
	Rate             float64 `json:"rate"`       // target messages/s
	Publishers       int     `json:"publishers"` // connections sending
	Sent             uint64  `json:"sent"`       // messages sent
	SentPerSec       float64 `json:"sent_per_s"` // achieved send rate
	Expected         uint64  `json:"expected"`   // sent × (members-1)
	Delivered        uint64  `json:"delivered"`  // message_received frames counted
	DeliveredRatio   float64 `json:"delivered_ratio"`
	DeliveriesPerSec float64 `json:"deliveries_per_s"`
	P50ms            float64 `json:"p50_ms"`
	P99ms            float64 `json:"p99_ms"`
	MaxMs            float64 `json:"max_ms"`
	ServerCPU        float64 `json:"server_cpu"`             // cores used by the server (needs its pid)
	LoadCPU          float64 `json:"load_cpu"`               // cores used by this load generator
	ServerUsPerDel   float64 `json:"server_us_per_delivery"` // server CPU per delivery: robust to noise
	Errors           uint64  `json:"errors"`                 // error frames received (rate limits, ...)
	Lost             int64   `json:"lost"`                   // connections the server closed so far
	Sustained        bool    `json:"sustained"`
}

// FanoutResult is a whole fan-out run against one server.
type FanoutResult struct {
	Members      int          `json:"members"`
	Steps        []FanoutStep `json:"steps"`
	MaxSustained float64      `json:"max_sustained_rate"` // 0: no step sustained
	FirstError   string       `json:"first_error,omitempty"`
}

type stepStats struct {
	delivered atomic.Uint64
	hist      histogram
}

type fanout struct {
	srv      server
	conns    []*wsConn
	readers  sync.WaitGroup
	done     bool // out of the rotation
	fails    int  // steps in a row not sustained
	epoch    time.Time
	steps    [maxSteps]stepStats
	frames   atomic.Uint64
	errors   atomic.Uint64
	lost     atomic.Int64
	stopping atomic.Bool
	errMu    sync.Mutex
	firstErr string
}

var textKey = []byte(`"text":"`)

// onText accounts one text frame that came off the socket at arrived. A
// message's text is "<step>:<ns>", the step it belongs to and its send
// time in ns since the run's epoch.
func (f *fanout) onText(p []byte, arrived time.Time) {
	i := bytes.Index(p, textKey)
	if i < 0 {
		if bytes.Contains(p, []byte(`"type":"error"`)) {
			f.errors.Add(1)
			f.errMu.Lock()
			if f.firstErr == "" {
				f.firstErr = string(p)
			}
			f.errMu.Unlock()
		}
		return
	}
	now := arrived.Sub(f.epoch)
	rest := p[i+len(textKey):]
	step, rest := parseUint(rest)
	if len(rest) == 0 || rest[0] != ':' || step >= maxSteps {
		return // someone else's message
	}
	sent, _ := parseUint(rest[1:])
	st := &f.steps[step]
	st.delivered.Add(1)
	st.hist.record(now - time.Duration(sent))
}

func parseUint(b []byte) (uint64, []byte) {
	var v uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + uint64(b[i]-'0')
	}
	return v, b[i:]
}

func (f *fanout) read(c *wsConn) {
	for {
		op, p, err := c.next()
		if err != nil {
			if !f.stopping.Load() {
				f.lost.Add(1)
				f.errMu.Lock()
				if f.firstErr == "" {
					f.firstErr = "connection lost without a close frame: " + err.Error()
				}
				f.errMu.Unlock()
			}
			return
		}
		f.frames.Add(1)
		switch op {
		case opText:
			f.onText(p, c.arrived())
		case opPing:
			_ = c.write(opPong, append([]byte(nil), p...))
		case opClose:
			if !f.stopping.Load() {
				f.lost.Add(1)
				f.errMu.Lock()
				if f.firstErr == "" && len(p) >= 2 {
					f.firstErr = fmt.Sprintf("connection closed by the server: %d %s", int(p[0])<<8|int(p[1]), p[2:])
				}
				f.errMu.Unlock()
			}
			return
		}
	}
}

// server is one server under test.
type server struct {
	name string
	t    target
	pid  int // 0: unknown (no CPU or RSS figures)
}

// runFanout joins o.Members connections to one room on every server, then
// steps the rate up, running each step on every server in turn: on a
// noisy machine, figures taken seconds apart compare better than figures
// taken minutes apart. A server leaves the rotation after two steps in a
// row not sustained.
func runFanout(ctx context.Context, servers []server, secret []byte, o FanoutOptions, progress io.Writer) ([]*FanoutResult, error) {
	if o.Members < 2 {
		return nil, fmt.Errorf("fanout needs at least 2 members, got %d", o.Members)
	}
	epoch := time.Now()
	var fs []*fanout
	defer func() {
		for _, f := range fs {
			f.close()
		}
	}()
	for _, s := range servers {
		f, err := openFanout(ctx, s, secret, o, epoch, progress)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		fs = append(fs, f)
	}
	results := make([]*FanoutResult, len(fs))
	for i := range results {
		results[i] = &FanoutResult{Members: o.Members}
	}
	rate := o.Rate
	steps := min(max(o.Steps, 1), maxSteps)
	if o.Step <= 1 {
		steps = 1
	}
	running := len(fs)
	for i := 0; i < steps && running > 0 && ctx.Err() == nil; i++ {
		for j, f := range fs {
			res := results[j]
			if f.done {
				continue
			}
			s := f.step(ctx, i, rate, o)
			res.Steps = append(res.Steps, s)
			if s.Sustained {
				res.MaxSustained = s.Rate
			}
			fmt.Fprintf(progress, "%s: %6.0f msg/s (%d publishers): delivered %7.3f%%, %9.0f deliveries/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms, cpu server %.2f load %.2f%s\n",
				f.srv.name, s.Rate, s.Publishers, 100*s.DeliveredRatio, s.DeliveriesPerSec, s.P50ms, s.P99ms, s.MaxMs, s.ServerCPU, s.LoadCPU, map[bool]string{true: "", false: "  NOT SUSTAINED"}[s.Sustained])
			// One failed step may be a stall of the shared machine; two in
			// a row, or a connection dropped, end this server's run.
			if s.Sustained {
				f.fails = 0
			} else {
				f.fails++
			}
			if f.fails >= 2 || s.Lost > 0 {
				f.done = true
				running--
			}
		}
		rate *= o.Step
	}
	for j, f := range fs {
		results[j].FirstError = f.firstError()
	}
	return results, ctx.Err()
}

// openFanout connects the members to one server and waits until the
// presence traffic of the joins has died down.
func openFanout(ctx context.Context, s server, secret []byte, o FanoutOptions, epoch time.Time, progress io.Writer) (*fanout, error) {
	f := &fanout{epoch: epoch, srv: s}
	start := time.Now()
	conns, err := connectMany(ctx, s.t, secret, "bench-fanout", o.Members, 32, 16<<10,
		func(int) string { return o.Room },
		func(_ int, c *wsConn) { f.readers.Go(func() { f.read(c) }) },
		func(done int) { fmt.Fprintf(progress, "%s: %d/%d members joined\n", s.name, done, o.Members) })
	if err != nil {
		return nil, err
	}
	f.conns = conns
	waitQuiet(ctx, &f.frames, 300*time.Millisecond, 30*time.Second)
	fmt.Fprintf(progress, "%s: %d members in room %q after %.1fs\n", s.name, o.Members, o.Room, time.Since(start).Seconds())
	return f, nil
}

func (f *fanout) close() {
	f.stopping.Store(true)
	for _, c := range f.conns {
		c.close()
	}
	f.readers.Wait()
}

func (f *fanout) firstError() string {
	f.errMu.Lock()
	defer f.errMu.Unlock()
	return f.firstErr
}

// step sends at rate for o.Duration, spread over enough publishers to stay
// under o.PublisherRate each, then waits for the deliveries to drain.
func (f *fanout) step(ctx context.Context, i int, rate float64, o FanoutOptions) FanoutStep {
	conns := f.conns
	pubs := 1
	if o.PublisherRate > 0 {
		pubs = min(int(math.Ceil(rate/o.PublisherRate)), len(conns))
	}
	st := &f.steps[i]
	errs0 := f.errors.Load()
	cpu := startCPU(f.srv.pid)
	begin := time.Now()

	// Pace from the clock, not from ticks: a late tick sends the backlog,
	// so the achieved rate is the target rate unless writing is the limit.
	var sent uint64
	prefix := []byte(`{"type":"send_message","roomId":` + quoteJSON(o.Room) + `,"text":"` + strconv.Itoa(i) + `:`)
	buf := make([]byte, 0, 128)
	next := 0
	sendUpTo := func(due uint64) {
		for ; sent < due; sent++ {
			buf = strconv.AppendInt(append(buf[:0], prefix...), int64(time.Since(f.epoch)), 10)
			buf = append(buf, `"}`...)
			_ = conns[next].write(opText, buf)
			next = (next + 1) % pubs
		}
	}
	tick := time.NewTicker(time.Millisecond)
	for ctx.Err() == nil {
		el := time.Since(begin)
		if el >= o.Duration {
			sendUpTo(uint64(rate * o.Duration.Seconds()))
			break
		}
		sendUpTo(uint64(rate * el.Seconds()))
		<-tick.C
	}
	tick.Stop()
	sendTime := time.Since(begin)

	// Drain: until everything arrived, or nothing moved for a second, or
	// 5s passed (by then the step has failed its p99 anyway).
	expected := sent * uint64(len(conns)-1)
	last, since, end := st.delivered.Load(), time.Now(), time.Now().Add(5*time.Second)
	for ctx.Err() == nil && st.delivered.Load() < expected && time.Since(since) < time.Second && time.Now().Before(end) {
		time.Sleep(5 * time.Millisecond)
		if d := st.delivered.Load(); d != last {
			last, since = d, time.Now()
		}
	}
	srvCPU, loadCPU := cpu.stop()
	delivered := st.delivered.Load()
	s := FanoutStep{
		Rate: rate, Publishers: pubs, Sent: sent, SentPerSec: float64(sent) / sendTime.Seconds(),
		Expected: expected, Delivered: delivered, DeliveriesPerSec: float64(delivered) / sendTime.Seconds(),
		P50ms: ms(st.hist.quantile(0.50)), P99ms: ms(st.hist.quantile(0.99)), MaxMs: ms(st.hist.maxValue()),
		ServerCPU: srvCPU, LoadCPU: loadCPU, Errors: f.errors.Load() - errs0, Lost: f.lost.Load(),
	}
	if expected > 0 {
		s.DeliveredRatio = float64(delivered) / float64(expected)
	}
	if delivered > 0 {
		s.ServerUsPerDel = srvCPU * time.Since(begin).Seconds() * 1e6 / float64(delivered)
	}
	s.Sustained = expected > 0 && s.DeliveredRatio >= sustainedRatio && st.hist.quantile(0.99) <= o.MaxP99
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
