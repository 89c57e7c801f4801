package bench

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// IdleOptions configures the idle scenario.
type IdleOptions struct {
	Conns    int           // authenticated connections to hold
	RoomSize int           // connections per room (presence traffic grows with its square)
	Settle   time.Duration // wait after the last join before reading RSS
}

// IdleResult is the server's memory with Conns idle connections.
type IdleResult struct {
	Conns        int     `json:"conns"`
	SetupSeconds float64 `json:"setup_s"`
	RSSBefore    uint64  `json:"rss_before_bytes,omitempty"`
	RSSAfter     uint64  `json:"rss_after_bytes,omitempty"`
	BytesPerConn float64 `json:"bytes_per_conn,omitempty"`
	Lost         int64   `json:"lost"` // connections closed by the server while held
}

func runIdle(ctx context.Context, t target, secret []byte, o IdleOptions, pid int, name string, progress io.Writer) (*IdleResult, error) {
	res := &IdleResult{Conns: o.Conns}
	if pid > 0 {
		var err error
		if res.RSSBefore, err = rss(pid); err != nil {
			return nil, fmt.Errorf("server memory: %w", err)
		}
	}
	var (
		readers  sync.WaitGroup
		lost     atomic.Int64
		stopping atomic.Bool
	)
	// A reader per connection drains presence events and answers pings, as
	// any live client would.
	hold := func(_ int, c *wsConn) {
		readers.Go(func() {
			for {
				op, p, err := c.next()
				if err != nil || op == opClose {
					if !stopping.Load() {
						lost.Add(1)
					}
					return
				}
				if op == opPing {
					_ = c.write(opPong, append([]byte(nil), p...))
				}
			}
		})
	}
	roomSize := max(o.RoomSize, 1)
	start := time.Now()
	conns, err := connectMany(ctx, t, secret, "bench-idle", o.Conns, 64, 1<<10,
		func(i int) string { return "idle-" + strconv.Itoa(i/roomSize) }, hold,
		func(done int) { fmt.Fprintf(progress, "%s: %d/%d connections up\n", name, done, o.Conns) })
	if err != nil {
		return nil, err
	}
	res.SetupSeconds = time.Since(start).Seconds()
	defer func() {
		stopping.Store(true)
		for _, c := range conns {
			c.close()
		}
		readers.Wait()
	}()
	fmt.Fprintf(progress, "%s: %d connections up in %.1fs; settling %v\n", name, o.Conns, res.SetupSeconds, o.Settle)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(o.Settle):
	}
	res.Lost = lost.Load()
	if pid > 0 {
		if res.RSSAfter, err = rss(pid); err != nil {
			return nil, fmt.Errorf("server memory: %w", err)
		}
		res.BytesPerConn = (float64(res.RSSAfter) - float64(res.RSSBefore)) / float64(o.Conns)
		fmt.Fprintf(progress, "%s: RSS %.1f MiB -> %.1f MiB: %.0f bytes per connection\n",
			name, float64(res.RSSBefore)/(1<<20), float64(res.RSSAfter)/(1<<20), res.BytesPerConn)
	}
	return res, nil
}
