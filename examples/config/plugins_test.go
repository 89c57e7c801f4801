package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
	"github.com/switchboard-rt/switchboard/router"
	"github.com/switchboard-rt/switchboard/router/config"
)

// The plugins plugins.hcl uses, each built from ../plugins/<name>.
var pluginNames = []string{"apikey", "roomacl", "nolinks", "redact", "sanitize"}

// Set by TestMain: the switchboard binary, and copies of plugins.hcl and
// bench-validator.hcl whose sources point at the plugins built from source
// (no .wasm is committed).
var binary, configFile, benchConfigFile string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-config-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err = setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
	}
	code := 1
	if err == nil {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func setup(dir string) error {
	wasm := map[string]string{}
	for _, name := range pluginNames {
		path, err := wasmbuild.Go(filepath.Join("..", "plugins", name))
		if err != nil {
			return err
		}
		wasm[name] = path
	}
	var err error
	if configFile, err = withBuiltPlugins(dir, "plugins.hcl", pluginNames, wasm); err != nil {
		return err
	}
	if benchConfigFile, err = withBuiltPlugins(dir, "bench-validator.hcl", []string{"nolinks"}, wasm); err != nil {
		return err
	}
	binary = filepath.Join(dir, "switchboard")
	build := exec.Command("go", "build", "-o", binary, "github.com/switchboard-rt/switchboard/cmd/switchboard")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// withBuiltPlugins writes a copy of file into dir whose plugin sources,
// one for each of names, point at the plugins built from source.
func withBuiltPlugins(dir, file string, names []string, wasm map[string]string) (string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	cfg := string(src)
	for _, name := range names {
		ref := strconv.Quote("../plugins/" + name + "/" + name + ".wasm")
		if strings.Count(cfg, ref) != 1 {
			return "", fmt.Errorf("%s should have source = %s once", file, ref)
		}
		cfg = strings.Replace(cfg, ref, strconv.Quote(wasm[name]), 1)
	}
	out := filepath.Join(dir, file)
	return out, os.WriteFile(out, []byte(cfg), 0o644)
}

// switchboardTest runs `switchboard test -v -c file` and returns its exit
// code and output.
func switchboardTest(t *testing.T, file string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, "test", "-v", "-c", file)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("switchboard test: %v\n%s", err, out)
	return 0, ""
}

// testNames are the names of the config's test blocks.
func testNames(t *testing.T, file string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^test "([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		names = append(names, m[1])
	}
	return names
}

func TestConfigTests(t *testing.T) {
	code, out := switchboardTest(t, configFile)
	names := testNames(t, configFile)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("\n%d passed, 0 failed", len(names))) {
		t.Fatalf("switchboard test: exit %d, want 0 and %d passed\n%s", code, len(names), out)
	}
	for _, name := range names {
		if !strings.Contains(out, "--- PASS: "+name+" (") {
			t.Errorf("test %q did not pass\n%s", name, out)
		}
	}
	// Every plugin of the config is exercised by some test.
	for _, name := range []string{"roomacl", "nolinks", "redact", "sanitize"} {
		found := false
		for _, n := range names {
			found = found || strings.HasPrefix(n, name+":")
		}
		if !found {
			t.Errorf("no test block named %q", name+": ...")
		}
	}
}

// TestBenchValidatorConfig: the config the benchmarks run with a WASM
// validator loads, and its plugin runs on send_message.
func TestBenchValidatorConfig(t *testing.T) {
	code, out := switchboardTest(t, benchConfigFile)
	if n := len(testNames(t, benchConfigFile)); code != 0 || !strings.Contains(out, fmt.Sprintf("\n%d passed, 0 failed", n)) {
		t.Fatalf("switchboard test: exit %d, want 0 and %d passed\n%s", code, n, out)
	}
}

// A wrong expectation must fail the run: these tests can catch something.
func TestConfigTestsCanFail(t *testing.T) {
	src, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	bad := string(src) + `
test "sanitize: wrongly expects markup to survive" {
  send = { type = "send_message", roomId = "lobby", text = "<b>hi</b>" }
  expect {
    fields = { text = "<b>hi</b>" }
  }
}

test "roomacl: wrongly expects the admin room to be open" {
  send = { type = "send_message", roomId = "admin:ops", text = "hi" }
  expect {
    verdict = "deliver"
  }
}
`
	file := filepath.Join(t.TempDir(), "bad.hcl")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := switchboardTest(t, file)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"--- FAIL: sanitize: wrongly expects markup to survive",
		`field "text" = "\u0026lt;b\u0026gt;hi\u0026lt;/b\u0026gt;", want "\u003cb\u003ehi\u003c/b\u003e"`,
		"--- FAIL: roomacl: wrongly expects the admin room to be open",
		`verdict = "reject (room_forbidden:`,
		"2 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

// The connect phase is out of reach of test blocks: check apikey, and the
// roles it gives to roomacl, over a real WebSocket.
func TestAPIKeyOverWebSocket(t *testing.T) {
	src, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(src, configFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.JWT.Secret = "test-secret"
	rt, err := router.New(cfg, router.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt)
	t.Cleanup(func() {
		srv.Close()
		rt.Close(context.Background())
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"

	dial := func(header http.Header, query string) (*websocket.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, url+query, &websocket.DialOptions{HTTPHeader: header})
		if err == nil {
			t.Cleanup(func() { _ = c.CloseNow() })
		}
		return c, err
	}
	read := func(c *websocket.Conn) (map[string]any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, b, err := c.Read(ctx)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		return m, json.Unmarshal(b, &m)
	}
	send := func(c *websocket.Conn, msg string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	connect := func(header http.Header, query, user string) *websocket.Conn {
		t.Helper()
		c, err := dial(header, query)
		if err != nil {
			t.Fatalf("dial as %s: %v", user, err)
		}
		m, err := read(c)
		if err != nil || m["type"] != "connected" || m["userId"] != user {
			t.Fatalf("dial as %s: got %v, %v; want connected as %s", user, m, err, user)
		}
		return c
	}

	admin := connect(http.Header{"X-Api-Key": {"demo-admin-key-0123456789abcdef"}}, "", "svc-admin")
	bot := connect(nil, "?api_key=demo-bot-key-0123456789abcdef", "svc-bot")

	// apikey's roles claim is what roomacl checks.
	send(admin, `{"type":"join_room","roomId":"admin:ops","id":"a1"}`)
	send(bot, `{"type":"join_room","roomId":"bots:alerts","id":"b0"}`)
	send(bot, `{"type":"send_message","roomId":"admin:ops","text":"hi","id":"b1"}`)
	send(bot, `{"type":"send_message","roomId":"bots:alerts","text":"disk 91%","id":"b2"}`)
	for _, c := range []struct {
		conn *websocket.Conn
		want []string // "type/id/code" of the replies, in order
	}{
		{admin, []string{"room_joined//", "ack/a1/"}},
		{bot, []string{"room_joined//", "ack/b0/", "error/b1/room_forbidden", "ack/b2/"}},
	} {
		for _, want := range c.want {
			m, err := read(c.conn)
			got := fmt.Sprintf("%v/%v/%v", m["type"], m["id"], m["code"])
			got = strings.ReplaceAll(got, "<nil>", "")
			if err != nil || got != want {
				t.Errorf("got %s (%v, %v), want %s", got, m, err, want)
			}
		}
	}

	// roomacl's refusal says what was refused: a join or a post.
	send(bot, `{"type":"join_room","roomId":"admin:ops","id":"b3"}`)
	send(bot, `{"type":"typing_start","roomId":"admin:ops","id":"b4"}`)
	for _, want := range []string{"b3 you may not join this room", "b4 you may not post to this room"} {
		m, err := read(bot)
		if got := fmt.Sprintf("%v %v", m["id"], m["message"]); err != nil || m["code"] != "room_forbidden" || got != want {
			t.Errorf("got %v (%v), want room_forbidden %q", m, err, want)
		}
	}

	// No key: apikey passes, the JWT decides.
	tok, err := router.IssueToken([]byte("test-secret"), "alice", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	connect(nil, "?token="+tok, "alice")
	if c, err := dial(nil, ""); err != nil {
		t.Fatal(err)
	} else if _, err := read(c); websocket.CloseStatus(err) != 4001 {
		t.Errorf("no key, no token: got %v, want close 4001", err)
	}

	// A wrong key is refused: accepted, then closed with 4001.
	for _, h := range []http.Header{
		{"X-Api-Key": {"demo-bot-key-0123456789abcdeX"}},
		{"X-Api-Key": {"demo-bot-key"}},
	} {
		c, err := dial(h, "")
		if err != nil {
			t.Fatalf("dial with %v: %v", h, err)
		}
		if _, err := read(c); websocket.CloseStatus(err) != 4001 {
			t.Errorf("key %v: got %v, want close 4001", h, err)
		}
	}
}
