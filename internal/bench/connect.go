package bench

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-rt/switchboard/router"
)

// ConnectOptions configures the connect scenario.
type ConnectOptions struct {
	Concurrency int           // handshakes in flight
	Duration    time.Duration // how long to keep connecting
	MaxConnects int           // stop after this many handshakes anyway
}

// ConnectResult is the handshake rate with JWT auth.
type ConnectResult struct {
	Handshakes int64   `json:"handshakes"` // completed up to the `connected` event
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	PerSec     float64 `json:"handshakes_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	ServerCPU  float64 `json:"server_cpu"`
	LoadCPU    float64 `json:"load_cpu"`
	FirstError string  `json:"first_error,omitempty"`
}

// tokenPool is how many distinct users connect: signing is done before
// the clock starts, so the figure is the server's verification, not our
// signing.
const tokenPool = 1000

func runConnect(ctx context.Context, t target, secret []byte, o ConnectOptions, pid int, name string, progress io.Writer) (*ConnectResult, error) {
	tokens := make([]string, tokenPool)
	for i := range tokens {
		tok, err := router.IssueToken(secret, "bench-connect-"+strconv.Itoa(i), time.Hour, nil)
		if err != nil {
			return nil, err
		}
		tokens[i] = tok
	}
	var (
		ok, errs, next atomic.Int64
		hist           histogram
		errMu          sync.Mutex
		firstErr       string
		wg             sync.WaitGroup
	)
	cpu := startCPU(pid)
	begin := time.Now()
	deadline := begin.Add(o.Duration)
	for range max(o.Concurrency, 1) {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := next.Add(1)
				if i > int64(o.MaxConnects) {
					return
				}
				t0 := time.Now()
				c, err := dial(t, tokens[i%tokenPool], 1<<10, 5*time.Second)
				if err == nil {
					err = c.waitFor(`"type":"connected"`, 5*time.Second)
					c.abort()
				}
				if err != nil {
					errs.Add(1)
					errMu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					errMu.Unlock()
					continue
				}
				hist.record(time.Since(t0))
				ok.Add(1)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-tick.C:
			fmt.Fprintf(progress, "%s: %d handshakes, %d errors after %.0fs\n", name, ok.Load(), errs.Load(), time.Since(begin).Seconds())
		}
	}
	el := time.Since(begin)
	srv, load := cpu.stop()
	res := &ConnectResult{
		Handshakes: ok.Load(), Errors: errs.Load(), Seconds: el.Seconds(),
		PerSec: float64(ok.Load()) / el.Seconds(),
		P50ms:  ms(hist.quantile(0.5)), P99ms: ms(hist.quantile(0.99)),
		ServerCPU: srv, LoadCPU: load, FirstError: firstErr,
	}
	fmt.Fprintf(progress, "%s: %.0f handshakes/s, %d errors, p50 %.2f ms, p99 %.2f ms\n", name, res.PerSec, res.Errors, res.P50ms, res.P99ms)
	return res, ctx.Err()
}
