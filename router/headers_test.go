package router_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawUpgrade writes an upgrade request of exactly size bytes (request line,
// header lines and the blank line) over a plain TCP connection and returns
// the response status.
func rawUpgrade(t *testing.T, addr, path string, size int) int {
	t.Helper()
	head := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	pad := size - len(head) - len("X-Pad: \r\n\r\n")
	if pad < 0 {
		t.Fatalf("size %d is too small for the request", size)
	}
	req := head + "X-Pad: " + strings.Repeat("a", pad) + "\r\n\r\n"
	if len(req) != size {
		t.Fatalf("built %d bytes, want %d", len(req), size)
	}
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

// TestMaxHeaderBytesIsExact: net/http reads 4 KiB more than its
// MaxHeaderBytes; the router's limit is the byte.
func TestMaxHeaderBytesIsExact(t *testing.T) {
	s := startServer(t, `
server {
  max_header_bytes = "2KiB"
}
route "echo" {
  deliver {
    to = "sender"
  }
}
`)
	addr := strings.TrimPrefix(s.http.URL, "http://")
	for _, tc := range []struct {
		size, status int
	}{
		{2048, http.StatusSwitchingProtocols},
		{2049, http.StatusRequestHeaderFieldsTooLarge},
		{6048, http.StatusRequestHeaderFieldsTooLarge}, // 2 KiB + net/http's 4 KiB of slack, less a little
	} {
		if got := rawUpgrade(t, addr, "/ws", tc.size); got != tc.status {
			t.Errorf("%d-byte upgrade with max_header_bytes 2KiB: status %d, want %d", tc.size, got, tc.status)
		}
	}
}
