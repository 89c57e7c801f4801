package main

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// upgradeStatus writes an upgrade request of exactly size bytes over TCP
// and returns the response status.
func upgradeStatus(t *testing.T, addr string, size int) int {
	t.Helper()
	head := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	req := head + "X-Pad: " + strings.Repeat("a", size-len(head)-len("X-Pad: \r\n\r\n")) + "\r\n\r\n"
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%d-byte request: %v", size, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeMaxHeaderBytesIsExact: server.max_header_bytes is the largest
// upgrade request serve accepts, to the byte, below net/http's 4 KiB of
// slack (2KiB) and above it (the 16KiB default).
func TestServeMaxHeaderBytesIsExact(t *testing.T) {
	for _, tc := range []struct {
		setting string
		limit   int
	}{
		{`max_header_bytes = "2KiB"`, 2 << 10},
		{"", 16 << 10},
	} {
		url := startServe(t, "server {\n"+tc.setting+"\n}\n"+minimalAuth)
		addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws")
		for _, size := range []int{tc.limit, tc.limit + 1, tc.limit + 4000} {
			want := http.StatusSwitchingProtocols
			if size > tc.limit {
				want = http.StatusRequestHeaderFieldsTooLarge
			}
			if got := upgradeStatus(t, addr, size); got != want {
				t.Errorf("limit %d: %d-byte upgrade got %d, want %d", tc.limit, size, got, want)
			}
		}
	}
}
