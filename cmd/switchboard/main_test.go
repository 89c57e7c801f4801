package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-cmd")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "switchboard")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func switchboard(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestEmbeddedConfigIsRouterHCL(t *testing.T) {
	want, err := os.ReadFile("../../router.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, defaultConfig) {
		t.Fatal("cmd/switchboard/default.hcl differs from router.hcl: run `go generate ./cmd/switchboard`")
	}
}

func TestValidate(t *testing.T) {
	out, errOut, code := switchboard(t, "../..", nil, "validate")
	if code != 0 || !strings.Contains(out, "router.hcl: OK (5 routes") {
		t.Fatalf("validate router.hcl: code %d\n%s%s", code, out, errOut)
	}
	out, _, code = switchboard(t, t.TempDir(), nil, "validate")
	if code != 0 || !strings.Contains(out, "built in") {
		t.Fatalf("validate built-in: code %d %s", code, out)
	}

	bad := filepath.Join(t.TempDir(), "bad.hcl")
	os.WriteFile(bad, []byte("server {\n  max_payload = \"lots\"\n}\nroute \"x\" {\n  plugins = [plugin.nope]\n}\n"), 0o644)
	_, errOut, code = switchboard(t, ".", nil, "validate", "-c", bad)
	if code == 0 {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"bad.hcl:2,", "max_payload = \"lots\"", "bad.hcl:5,", "plugin.nope"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, errOut)
		}
	}
	_, errOut, code = switchboard(t, ".", nil, "validate", "-c", "missing.hcl")
	if code == 0 || !strings.Contains(errOut, "missing.hcl") {
		t.Fatalf("missing file: code %d %s", code, errOut)
	}
}

func TestToken(t *testing.T) {
	env := []string{"SWITCHBOARD_JWT_SECRET=s3cret"}
	out, errOut, code := switchboard(t, "../..", env, "token", "--sub", "alice", "--ttl", "2h", "--claim", "role=admin")
	if code != 0 {
		t.Fatalf("token: %d %s", code, errOut)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(strings.TrimSpace(out), claims, func(*jwt.Token) (any, error) { return []byte("s3cret"), nil }); err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	exp, _ := claims.GetExpirationTime()
	if claims["sub"] != "alice" || claims["role"] != "admin" || time.Until(exp.Time) < 110*time.Minute {
		t.Fatalf("claims = %v", claims)
	}
	_, errOut, code = switchboard(t, "../..", []string{"SWITCHBOARD_JWT_SECRET="}, "token", "--sub", "alice")
	if code == 0 || !strings.Contains(errOut, "SWITCHBOARD_JWT_SECRET") {
		t.Fatalf("no secret: code %d %s", code, errOut)
	}
	if _, _, code := switchboard(t, "../..", env, "token"); code != 2 {
		t.Fatalf("missing --sub: code %d", code)
	}
}

// TestServeDemoAndShutdown starts the binary with no secret from a
// directory without router.hcl, connects with the printed demo URL, and
// stops it with SIGTERM: the client must see 1001 and the process exit.
func TestServeDemoAndShutdown(t *testing.T) {
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "SWITCHBOARD_JWT_SECRET=")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	urlRe := regexp.MustCompile(`ws://\S+\?token=\S+`)
	lines := bufio.NewScanner(stdout)
	var url string
	for lines.Scan() {
		if url = urlRe.FindString(lines.Text()); url != "" {
			break
		}
	}
	if url == "" {
		t.Fatalf("no demo URL printed; stderr:\n%s", stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	_, data, err := c.Read(ctx)
	var m map[string]string
	if err != nil || json.Unmarshal(data, &m) != nil || m["type"] != "connected" || m["userId"] != "demo" {
		t.Fatalf("connected: %s %v", data, err)
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("client saw %v, want close 1001; server log:\n%s", err, stderr.String())
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	if d := time.Since(start); d > shutdownTimeout {
		t.Fatalf("shutdown took %v", d)
	}
}

func TestValidatePlugins(t *testing.T) {
	wasm := wasmbuild.Build(t, "../../examples/plugins/nolinks")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`plugin "missing" {
  source = "nope.wasm"
}
plugin "not_wasm" {
  source = "bad.hcl"
}
plugin "bad_config" {
  source = %q
  config = { allow = 42 }
}
plugin "good" {
  source = %q
  config = { allow = ["example.com"] }
}
route "x" {
  plugins = [plugin.good]
  deliver {
    to = "sender"
  }
}
`, wasm, wasm)
	path := filepath.Join(dir, "bad.hcl")
	os.WriteFile(path, []byte(cfg), 0o644)
	_, errOut, code := switchboard(t, ".", nil, "validate", "-c", path)
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	for _, want := range []string{"bad.hcl:2,12-23: Plugin does not load", "no such file", "bad.hcl:5,12-21:", "not a WebAssembly module", "bad.hcl:8,12-", `plugin "bad_config"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, `plugin "good"`) {
		t.Errorf("the good plugin was reported:\n%s", errOut)
	}
}
