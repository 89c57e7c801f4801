package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-rt/switchboard/router"
)

// setupTimeout bounds each step of bringing one connection up.
const setupTimeout = 10 * time.Second

// connectMany opens n authenticated connections, each joined to room(i),
// with conc handshakes in flight. start(i, c) runs for each connection once
// it has joined (it starts the connection's reader). It fails on the first
// error: figures over a partial set of connections would mislead.
func connectMany(ctx context.Context, t target, secret []byte, prefix string, n, conc, bufSize int,
	room func(i int) string, start func(i int, c *wsConn), progress func(done int)) ([]*wsConn, error) {
	conns := make([]*wsConn, n)
	var (
		next, done atomic.Int64
		firstErr   error
		errOnce    sync.Once
		failed     atomic.Bool
		wg         sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	for range min(conc, n) {
		wg.Go(func() {
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := openMember(t, secret, fmt.Sprintf("%s-%d", prefix, i), bufSize, room(i))
				if err != nil {
					fail(fmt.Errorf("connection %d: %w", i, err))
					return
				}
				conns[i] = c
				start(i, c)
				if d := done.Add(1); progress != nil && d%1000 == 0 {
					progress(int(d))
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		for _, c := range conns {
			if c != nil {
				c.abort()
			}
		}
		return nil, firstErr
	}
	return conns, nil
}

// openMember connects as user, waits for `connected`, joins room and waits
// for `room_joined`.
func openMember(t target, secret []byte, user string, bufSize int, room string) (*wsConn, error) {
	tok, err := router.IssueToken(secret, user, time.Hour, nil)
	if err != nil {
		return nil, err
	}
	c, err := dial(t, tok, bufSize, setupTimeout)
	if err != nil {
		return nil, err
	}
	if err := c.waitFor(`"type":"connected"`, setupTimeout); err != nil {
		c.abort()
		return nil, err
	}
	if err := c.write(opText, []byte(`{"type":"join_room","roomId":`+quoteJSON(room)+`}`)); err != nil {
		c.abort()
		return nil, err
	}
	if err := c.waitFor(`"type":"room_joined"`, setupTimeout); err != nil {
		c.abort()
		return nil, err
	}
	return c, nil
}

// quoteJSON quotes a bench-made name (letters, digits, '-'): no escaping
// is needed.
func quoteJSON(s string) string { return `"` + s + `"` }

// waitQuiet waits until counter stops moving for quiet, bounded by max:
// after setup, presence events (user_joined) are still being delivered and
// must not be mistaken for load.
func waitQuiet(ctx context.Context, counter *atomic.Uint64, quiet, max time.Duration) {
	end := time.Now().Add(max)
	last, since := counter.Load(), time.Now()
	for time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(quiet / 10)
		if v := counter.Load(); v != last {
			last, since = v, time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
	}
}
