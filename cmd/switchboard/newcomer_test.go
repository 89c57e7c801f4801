package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTokenTTLNotPositive: a token that would be expired when printed is
// refused as a command-line error.
func TestTokenTTLNotPositive(t *testing.T) {
	env := []string{"SWITCHBOARD_JWT_SECRET=s3cret"}
	for _, ttl := range []string{"0", "0s", "-1h", "-5s"} {
		out, errOut, code := switchboard(t, t.TempDir(), env, "token", "--sub", "alice", "--ttl", ttl)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "switchboard: --ttl must be positive") {
			t.Errorf("--ttl %s: exit %d, stdout %q, stderr:\n%s", ttl, code, out, errOut)
		}
	}
}

// TestDemoURLsOnEveryInterface: listening on every interface, both demo
// URLs name localhost, which a browser and a client can open.
func TestDemoURLsOnEveryInterface(t *testing.T) {
	for _, ip := range []net.IP{net.IPv6unspecified, net.IPv4zero} {
		var b bytes.Buffer
		printDemo(&b, "ws://", "/ws", &net.TCPAddr{IP: ip, Port: 18086}, "TOK")
		urls := regexp.MustCompile(`\S+://\S+`).FindAllString(b.String(), -1)
		want := []string{"ws://localhost:18086/ws?token=TOK", "http://localhost:18086/?token=TOK"}
		if strings.Join(urls, " ") != strings.Join(want, " ") {
			t.Errorf("listening on %v: URLs %q, want %q", ip, urls, want)
		}
	}
	var b bytes.Buffer
	printDemo(&b, "wss://", "/ws", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}, "T")
	if !strings.Contains(b.String(), "wss://127.0.0.1:8443/ws?token=T") || !strings.Contains(b.String(), "https://127.0.0.1:8443/?token=T") {
		t.Errorf("127.0.0.1 with TLS:\n%s", b.String())
	}
}

// TestServeListenErrors: a bad --listen is a command-line error naming
// the flag; a bad server.listen names the config; a port in use says how
// to choose another.
func TestServeListenErrors(t *testing.T) {
	env := []string{"SWITCHBOARD_JWT_SECRET=s3cret"}
	for _, c := range []struct{ addr, want string }{
		{"127.0.0.1:99999", `port "99999" is not a number from 0 to 65535`},
		{"localhost", `"localhost" is not host:port`},
	} {
		out, errOut, code := switchboard(t, t.TempDir(), env, "serve", "--listen", c.addr)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "switchboard: ") || !strings.Contains(errOut, "-listen") ||
			!strings.Contains(errOut, c.want) || strings.Contains(errOut, "server") && strings.Contains(errOut, "Invalid listen address") {
			t.Errorf("--listen %s: exit %d, stdout %q, stderr:\n%s", c.addr, code, out, errOut)
		}
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(path, []byte("server {\n  listen = \"127.0.0.1:99999\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := switchboard(t, dir, env, "serve", "-c", path)
	if code != 1 || !strings.HasPrefix(errOut, "switchboard: cannot listen on 127.0.0.1:99999 (server.listen in "+path+"): ") ||
		!strings.Contains(errOut, "0 to 65535") {
		t.Errorf("server.listen with a bad port: exit %d, stderr:\n%s", code, errOut)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, errOut, code = switchboard(t, t.TempDir(), env, "serve", "--listen", ln.Addr().String())
	if code != 1 || !strings.HasPrefix(errOut, "switchboard: cannot listen on "+ln.Addr().String()+" (--listen): the address is already in use") ||
		!strings.Contains(errOut, "pass --listen with another port") {
		t.Errorf("port in use: exit %d, stderr:\n%s", code, errOut)
	}
}

// TestPolicyTestTemplateMissingClaim: `switchboard test` sees a template
// with a missing or numeric claim refused, not joined as "team:".
func TestPolicyTestTemplateMissingClaim(t *testing.T) {
	cfg := `
auth {
  jwt {
    algorithms = ["HS256"]
    secret     = "s"
  }
}
route "join_team" {
  action = "join"
  room   = "team:${user.claims.team}"
}
test "no team claim" {
  send = { type = "join_team" }
  expect {
    verdict = "reject"
    code    = "missing_target"
  }
}
test "a numeric team claim" {
  claims = { team = 5 }
  send   = { type = "join_team" }
  expect {
    verdict = "reject"
    code    = "missing_target"
  }
}
test "team red" {
  claims = { team = "red" }
  send   = { type = "join_team" }
  expect {
    verdict = "join"
    room    = "team:red"
  }
}
`
	path := filepath.Join(t.TempDir(), "t.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := switchboard(t, ".", nil, "test", "-v", "-c", path)
	if code != 0 || strings.Count(out, "--- PASS") != 3 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}
