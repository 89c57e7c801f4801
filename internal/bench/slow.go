package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SlowOptions configures the slow-consumer scenario (issue 9, item 12):
// one room where most members never read, some read a few frames a
// second, and the rest read everything while publishers send.
type SlowOptions struct {
	Silent      int           // members that never read
	SlowReaders int           // members that read SlowRate frames/s
	SlowRate    float64       // frames/s a slow reader reads
	Fast        int           // members that read everything as it comes
	Publishers  int           // members that publish (and read everything)
	Rate        float64       // messages/s, all publishers together
	Size        int           // bytes of each message's text
	Duration    time.Duration // sending time
	After       time.Duration // wait after sending before the last figures
	Drop        int           // mass-disconnect variant: this many fast members drop their TCP connections at once; no publishing
	// SilentRcvbuf is the silent members' SO_RCVBUF. On loopback their
	// receive buffers, which a real client keeps on its own host, count in
	// the same kernel TCP memory as the server's send buffers; a small one
	// leaves mostly the server's share in the figures.
	SilentRcvbuf int
	Room         string
}

// SlowResult is what the scenario saw. A member counts as closed when the
// server sent it a close frame or ended its connection.
type SlowResult struct {
	Silent           int     `json:"silent"`
	SlowReaders      int     `json:"slow_readers"`
	Fast             int     `json:"fast"`
	Publishers       int     `json:"publishers"`
	SetupSeconds     float64 `json:"setup_s"`
	Sent             uint64  `json:"sent"`
	SilentClosed     int     `json:"silent_closed"` // by the end of the run
	SlowClosed       int64   `json:"slow_readers_closed"`
	FastClosed       int64   `json:"fast_closed"`
	PublishersClosed int64   `json:"publishers_closed"`
	Expected         uint64  `json:"expected"`  // messages (or user_left events) due to fast members and publishers
	Delivered        uint64  `json:"delivered"` // of those, received
	P50ms            float64 `json:"p50_ms"`
	P99ms            float64 `json:"p99_ms"`
	MaxMs            float64 `json:"max_ms"`
	ServerCPU        float64 `json:"server_cpu"` // cores, while sending
	// Kernel TCP memory of the whole host (/proc/net/sockstat "TCP: mem"),
	// in bytes: before the run, its peak while sending, when sending
	// ended, and After later.
	TCPMemBefore uint64 `json:"tcp_mem_before_bytes"`
	TCPMemPeak   uint64 `json:"tcp_mem_peak_bytes"`
	TCPMemEnd    uint64 `json:"tcp_mem_end_bytes"`
	TCPMemAfter  uint64 `json:"tcp_mem_after_bytes"`
	// SilentUnread is the payload the silent members' own sockets hold
	// at the end (SIOCINQ): on loopback part of the TCP memory above is
	// the clients', not the server's.
	SilentUnread uint64 `json:"silent_unread_bytes"`
	FirstClose   string `json:"first_close,omitempty"` // the first close a reading member got
}

// Member classes.
const (
	classSilent = iota
	classSlow
	classFast
	classPublisher
)

type slowRun struct {
	epoch    time.Time
	hist     histogram
	delivery atomic.Uint64 // frames counted toward Delivered
	frames   atomic.Uint64 // received by fast members and publishers
	closed   [4]atomic.Int64
	stopping atomic.Bool
	readers  sync.WaitGroup
	drop     bool     // count user_left, not messages
	dropped  sync.Map // *wsConn the bench itself dropped
	errMu    sync.Mutex
	first    string
}

func (r *slowRun) lost(class int, why string) {
	if r.stopping.Load() {
		return
	}
	r.closed[class].Add(1)
	r.errMu.Lock()
	if r.first == "" {
		r.first = why
	}
	r.errMu.Unlock()
}

// read drains c, every frame at once, or one per pace when pace > 0.
func (r *slowRun) read(c *wsConn, class int, pace time.Duration) {
	var tick *time.Ticker
	if pace > 0 {
		tick = time.NewTicker(pace)
		defer tick.Stop()
	}
	for {
		if tick != nil {
			<-tick.C
			if r.stopping.Load() {
				return
			}
		}
		op, p, err := c.next()
		if err != nil {
			if _, ok := r.dropped.Load(c); !ok {
				r.lost(class, "connection lost without a close frame: "+err.Error())
			}
			return
		}
		if class != classSlow {
			r.frames.Add(1)
		}
		switch op {
		case opText:
			if class == classFast || class == classPublisher {
				if _, gone := r.dropped.Load(c); !gone { // a dropped member may still read others' user_left
					r.onText(p, c.arrived())
				}
			}
		case opPing:
			_ = c.write(opPong, append([]byte(nil), p...))
		case opClose:
			why := "closed without a code"
			if len(p) >= 2 {
				why = fmt.Sprintf("closed by the server: %d %s", int(p[0])<<8|int(p[1]), p[2:])
			}
			r.lost(class, why)
			return
		}
	}
}

func (r *slowRun) onText(p []byte, arrived time.Time) {
	if r.drop {
		if bytes.Contains(p, []byte(`"type":"user_left"`)) {
			r.delivery.Add(1)
		}
		return
	}
	i := bytes.Index(p, textKey)
	if i < 0 {
		return
	}
	sent, rest := parseUint(p[i+len(textKey):])
	if len(rest) == 0 || rest[0] != ':' {
		return
	}
	r.delivery.Add(1)
	r.hist.record(arrived.Sub(r.epoch) - time.Duration(sent))
}

func runSlow(ctx context.Context, s server, secret []byte, o SlowOptions, progress io.Writer) (*SlowResult, error) {
	if o.Drop > 0 {
		o.Silent, o.SlowReaders, o.Publishers = 0, 0, 0
		if o.Drop >= o.Fast {
			return nil, fmt.Errorf("--drop %d leaves none of %d fast members", o.Drop, o.Fast)
		}
	} else if o.Publishers < 1 || o.Rate <= 0 {
		return nil, fmt.Errorf("slow needs publishers and a rate")
	}
	res := &SlowResult{Silent: o.Silent, SlowReaders: o.SlowReaders, Fast: o.Fast, Publishers: o.Publishers}
	r := &slowRun{epoch: time.Now(), drop: o.Drop > 0}
	room := func(int) string { return o.Room }
	start := time.Now()
	// Each join is announced to every member already in the room: slow
	// readers join last, or they would start with a backlog of thousands
	// of user_joined events.
	var all [][]*wsConn
	defer func() {
		r.stopping.Store(true)
		for _, cs := range all {
			for _, c := range cs {
				c.abort()
			}
		}
		r.readers.Wait()
	}()
	classes := []struct {
		class int
		n     int
		pace  time.Duration
		name  string
	}{
		{classPublisher, o.Publishers, 0, "publisher"},
		{classFast, o.Fast, 0, "fast"},
		{classSilent, o.Silent, 0, "silent"},
		{classSlow, o.SlowReaders, time.Duration(float64(time.Second) / max(o.SlowRate, 0.001)), "slow"},
	}
	conns := make([][]*wsConn, 4)
	for _, k := range classes {
		if k.n == 0 {
			continue
		}
		bufSize, t := 16<<10, s.t
		if k.class == classSilent {
			bufSize, t.rcvbuf = 1<<10, o.SilentRcvbuf
		}
		cs, err := connectMany(ctx, t, secret, "bench-"+k.name, k.n, 32, bufSize, room,
			func(_ int, c *wsConn) {
				if k.class != classSilent {
					r.readers.Go(func() { r.read(c, k.class, k.pace) })
				}
			},
			func(done int) { fmt.Fprintf(progress, "%s: %d/%d %s members joined\n", s.name, done, k.n, k.name) })
		if err != nil {
			return nil, err
		}
		conns[k.class] = cs
		all = append(all, cs)
	}
	waitQuiet(ctx, &r.frames, time.Second, 60*time.Second) // fast members and publishers
	res.SetupSeconds = time.Since(start).Seconds()
	fmt.Fprintf(progress, "%s: %d members in room %q after %.1fs\n", s.name, o.Silent+o.SlowReaders+o.Fast+o.Publishers, o.Room, res.SetupSeconds)

	res.TCPMemBefore = tcpMem()
	var peak atomic.Uint64
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if m := tcpMem(); m > peak.Load() {
				peak.Store(m)
			}
			select {
			case <-sampling:
				return
			case <-t.C:
			}
		}
	}()
	cpu := startCPU(s.pid)
	begin := time.Now()
	if o.Drop > 0 {
		fast := conns[classFast]
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for _, c := range fast[:o.Drop] {
			r.dropped.Store(c, true)
			wg.Go(func() {
				<-gate
				_ = c.nc.Close()
			})
		}
		close(gate)
		wg.Wait()
		res.Expected = uint64(o.Drop) * uint64(o.Fast-o.Drop)
		last, since := r.delivery.Load(), time.Now()
		for ctx.Err() == nil && r.delivery.Load() < res.Expected && time.Since(since) < 5*time.Second {
			time.Sleep(10 * time.Millisecond)
			if d := r.delivery.Load(); d != last {
				last, since = d, time.Now()
			}
		}
	} else {
		res.Sent = r.publish(ctx, conns[classPublisher], o)
		res.Expected = res.Sent * uint64(o.Fast+o.Publishers-1)
	}
	res.ServerCPU, _ = cpu.stop()
	res.TCPMemEnd = tcpMem()
	res.SilentClosed = closedCount(conns[classSilent])
	fmt.Fprintf(progress, "%s: sending done after %.1fs; waiting %v\n", s.name, time.Since(begin).Seconds(), o.After)
	select {
	case <-ctx.Done():
	case <-time.After(o.After):
	}
	close(sampling)
	<-sampled
	res.TCPMemAfter = tcpMem()
	res.TCPMemPeak = max(peak.Load(), res.TCPMemEnd, res.TCPMemAfter)
	res.SilentClosed = closedCount(conns[classSilent])
	for _, c := range conns[classSilent] {
		res.SilentUnread += unreadBytes(c.nc)
	}
	res.Delivered = r.delivery.Load()
	res.SlowClosed, res.FastClosed, res.PublishersClosed = r.closed[classSlow].Load(), r.closed[classFast].Load(), r.closed[classPublisher].Load()
	res.P50ms, res.P99ms, res.MaxMs = ms(r.hist.quantile(0.50)), ms(r.hist.quantile(0.99)), ms(r.hist.maxValue())
	r.errMu.Lock()
	res.FirstClose = r.first
	r.errMu.Unlock()
	return res, ctx.Err()
}

// publish sends o.Rate messages/s for o.Duration, round robin over the
// publishers; each text is "<ns since epoch>:" padded to o.Size bytes.
func (r *slowRun) publish(ctx context.Context, pubs []*wsConn, o SlowOptions) uint64 {
	pad := strings.Repeat("x", max(o.Size-20, 0))
	prefix := []byte(`{"type":"send_message","roomId":` + quoteJSON(o.Room) + `,"text":"`)
	buf := make([]byte, 0, o.Size+128)
	var sent uint64
	next := 0
	begin := time.Now()
	sendUpTo := func(due uint64) {
		for ; sent < due; sent++ {
			buf = strconv.AppendInt(append(buf[:0], prefix...), int64(time.Since(r.epoch)), 10)
			buf = append(append(append(buf, ':'), pad...), `"}`...)
			_ = pubs[next].write(opText, buf)
			next = (next + 1) % len(pubs)
		}
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		el := time.Since(begin)
		if el >= o.Duration {
			sendUpTo(uint64(o.Rate * o.Duration.Seconds()))
			break
		}
		sendUpTo(uint64(o.Rate * el.Seconds()))
		<-tick.C
	}
	return sent
}

// closedCount is how many of cs the server has closed (reset or FIN).
func closedCount(cs []*wsConn) int {
	n := 0
	for _, c := range cs {
		if !tcpEstablished(c.nc) {
			n++
		}
	}
	return n
}
