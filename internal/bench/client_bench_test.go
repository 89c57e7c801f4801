package bench

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The load generator's client is written over net.Conn rather than on
// coder/websocket because reading frames is its whole job. These read
// server frames the size of a message_received, coalesced 64 to a write as
// under load; compare ns/op and allocs/op:
//
//	go test -run - -bench Read -benchmem ./internal/bench/

var benchFrame = []byte(`{"type":"message_received","roomId":"bench","text":"0:123456789012","userId":"bench-fanout-1","ts":1764100000000,"id":"abcdefgh-1z"}`)

// frameServer accepts WebSocket connections and writes ?n= frames to each.
func frameServer(b *testing.B) string {
	var batch []byte
	for range 64 {
		batch = append(batch, 0x81, 126, 0, byte(len(benchFrame))) // 126..255 bytes
		batch = append(batch, benchFrame...)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + wsGUID))
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer nc.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
		_ = brw.Flush()
		for sent := 0; sent < n; sent += 64 {
			if _, err := nc.Write(batch); err != nil {
				return
			}
		}
		_, _ = io.Copy(io.Discard, nc) // until the client hangs up
	}))
	b.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "http://", "ws://", 1) + "/?n="
}

func BenchmarkReadRaw(b *testing.B) {
	t, err := parseTarget(frameServer(b) + strconv.Itoa(b.N))
	if err != nil {
		b.Fatal(err)
	}
	c, err := dial(t, "", 16<<10, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer c.abort()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, p, err := c.next(); err != nil || len(p) != len(benchFrame) {
			b.Fatal(err, len(p))
		}
	}
}

func BenchmarkReadCoder(b *testing.B) {
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, frameServer(b)+strconv.Itoa(b.N), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, p, err := c.Read(ctx); err != nil || len(p) != len(benchFrame) {
			b.Fatal(err, len(p))
		}
	}
}
