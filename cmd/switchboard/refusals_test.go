package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects a child process's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeLogs431 sends a request whose header is over max_header_bytes,
// in plain HTTP and over TLS: net/http answers 431 itself, and serve logs
// it once as a refusal with the client's address.
func TestServeLogs431(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	for _, tc := range []struct {
		name, cfg string
		client    *http.Client
	}{
		{"http", "", http.DefaultClient},
		{"https", fmt.Sprintf("tls {\n    cert_file = %q\n    key_file  = %q\n  }", certFile, keyFile),
			&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "router.hcl")
			cfg := "server {\n  max_header_bytes = \"4KiB\"\n  " + tc.cfg + "\n}\n" + minimalAuth
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr lockedBuffer
			cmd := exec.Command(binary, "serve", "-c", path, "--listen", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "SWITCHBOARD_JWT_SECRET=serve-test")
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			re := regexp.MustCompile(`url=wss?://(\S+)/ws`)
			var addr string
			for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if m := re.FindStringSubmatch(stderr.String()); m != nil {
					addr = m[1]
				}
			}
			if addr == "" {
				t.Fatalf("serve announced no URL:\n%s", stderr.String())
			}
			req, _ := http.NewRequest("GET", tc.name+"://"+addr+"/ws", nil)
			req.Header.Set("X-Pad", strings.Repeat("a", 64<<10))
			resp, err := tc.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("status %d, want 431", resp.StatusCode)
			}
			want := regexp.MustCompile(`level=INFO msg=refused reason="request header over max_header_bytes" code=431 remote=127\.0\.0\.1:\d+`)
			for deadline := time.Now().Add(5 * time.Second); len(want.FindAllString(stderr.String(), -1)) == 0 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if n := len(want.FindAllString(stderr.String(), -1)); n != 1 {
				t.Fatalf("431 logged %d times, want once:\n%s", n, stderr.String())
			}
		})
	}
}

// TestHijackUnwrapped: the router gets the socket itself, not logListener's
// wrapper, so its writev and non-blocking writes reach it.
func TestHijackUnwrapped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan net.Conn, 1)
	srv := &http.Server{Handler: unwrapHijack(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		got <- c
		c.Close()
	}))}
	go srv.Serve(logListener{ln, nil})
	defer srv.Shutdown(context.Background())
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err == nil {
		resp.Body.Close()
	}
	if c := <-got; fmt.Sprintf("%T", c) != "*net.TCPConn" {
		t.Fatalf("hijacked a %T, want *net.TCPConn", c)
	}
}
