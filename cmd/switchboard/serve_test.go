package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/router"
)

// startServe runs `switchboard serve -c cfg` on a free port and returns
// the URL it announces.
func startServe(t *testing.T, cfg string, args ...string) string {
	url, _ := startServeLog(t, cfg, args...)
	return url
}

// startServeLog is startServe, also returning the log lines printed
// before the server announced its URL.
func startServeLog(t *testing.T, cfg string, args ...string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "router.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, append([]string{"serve", "-c", path, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "SWITCHBOARD_JWT_SECRET=serve-test")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	re := regexp.MustCompile(`url=(\S+)`)
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return m[1], lines
		}
	}
	t.Fatalf("serve announced no URL:\n%s", strings.Join(lines, "\n"))
	return "", nil
}

func TestServeMetricsAndPprof(t *testing.T) {
	url, lines := startServeLog(t, "metrics {}\n"+minimalAuth, "--pprof", "127.0.0.1:0")
	base := "http://" + strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws")
	tok, _ := router.IssueToken([]byte("serve-test"), "alice", time.Hour, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url+"?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.Read(ctx) // connected
	body := get(t, base+"/metrics")
	for _, want := range []string{"switchboard_connections 1", "switchboard_messages_in_total", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	var pprofAddr string
	for _, l := range lines {
		if m := regexp.MustCompile(`pprof listening" addr=(\S+)`).FindStringSubmatch(l); m != nil {
			pprofAddr = m[1]
		}
	}
	if pprofAddr == "" {
		t.Fatalf("no pprof address logged: %v", lines)
	}
	if body := get(t, "http://"+pprofAddr+"/debug/pprof/"); !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof index: %.200s", body)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "switchboard test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

const minimalAuth = `
auth {
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }
}
route "echo" {
  deliver {
    to = "sender"
  }
}
`

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	url := startServe(t, fmt.Sprintf(`
server {
  tls {
    cert_file = %q
    key_file  = %q
  }
}
`, certFile, keyFile)+minimalAuth)
	if !strings.HasPrefix(url, "wss://") {
		t.Fatalf("announced %s, want wss://", url)
	}
	tok, _ := router.IssueToken([]byte("serve-test"), "alice", time.Hour, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c, _, err := websocket.Dial(ctx, url+"?token="+tok, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer c.CloseNow()
	c.Write(ctx, websocket.MessageText, []byte(`{"type":"echo","x":1}`))
	for _, want := range []string{`"connected"`, `"echo"`} {
		_, data, err := c.Read(ctx)
		if err != nil || !strings.Contains(string(data), want) {
			t.Fatalf("read %s: %s %v", want, data, err)
		}
	}
	// Plain ws to a TLS listener gets nowhere.
	if _, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "wss")+"?token="+tok, nil); err == nil {
		t.Fatal("plain ws accepted on the TLS listener")
	}
}

func TestServeSlowClients(t *testing.T) {
	url := startServe(t, `
server {
  handshake_timeout = "500ms"
  max_header_bytes  = "4KiB"
}
`+minimalAuth)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws")

	t.Run("slowloris: headers never finish", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\n") // and nothing more
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		_, err = io.ReadAll(conn)
		if err != nil {
			t.Fatalf("server did not close the connection: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("held for %v with handshake_timeout 500ms", d)
		}
	})
	t.Run("oversized header", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/ws", nil)
		req.Header.Set("X-Pad", strings.Repeat("a", 64<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
}
