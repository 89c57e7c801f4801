package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// startDemo runs `switchboard serve --listen 127.0.0.1:0` with the
// built-in config and no secret, as a new user would, and returns the page
// URL it prints (http://127.0.0.1:PORT/?token=...).
func startDemo(t *testing.T) string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_JWT_SECRET=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0")
	cmd.Dir = t.TempDir() // no ./router.hcl: the built-in config
	cmd.Env = env
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	re := regexp.MustCompile(`^\s*(http://127\.0\.0\.1:\d+/\?token=\S+)$`)
	sc := bufio.NewScanner(stdout)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stdout)
			return m[1]
		}
	}
	t.Fatalf("serve printed no page URL:\n%s", strings.Join(lines, "\n"))
	return ""
}

// chromium finds Debian's chromium. Outside CI a machine without it skips
// the browser tests; in CI (CI=true) its absence fails them.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed and CI=true: .ci/run installs it (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium); skipping the browser test")
	}
	return path
}

// TestBrowserDemoPage opens the page `switchboard serve` answers GET /
// with in headless Chromium, twice: one tab at 127.0.0.1, one at
// localhost, both same-origin for the default config whatever the port.
// Both show "connected" and join a room; what one sends the other shows.
func TestBrowserDemoPage(t *testing.T) {
	exe := chromium(t)
	page := startDemo(t)

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancel()
	ctx, cancel := context.WithTimeout(alloc, 60*time.Second)
	defer cancel()
	a, cancelA := chromedp.NewContext(ctx)
	defer cancelA()
	if err := chromedp.Do(a); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	b, cancelB := chromedp.NewContext(a) // a second tab in the same browser
	defer cancelB()
	tabs := []struct {
		name string
		ctx  context.Context
		url  string
	}{
		{"127.0.0.1", a, page},
		{"localhost", b, strings.Replace(page, "127.0.0.1", "localhost", 1)},
	}

	fail := func(format string, args ...any) {
		t.Helper()
		// t.TempDir goes with the test; SWITCHBOARD_TEST_ARTIFACTS keeps them.
		dir := os.Getenv("SWITCHBOARD_TEST_ARTIFACTS")
		if dir == "" {
			dir = filepath.Join(t.TempDir(), "artifacts")
		}
		_ = os.MkdirAll(dir, 0o755)
		for _, tab := range tabs {
			sctx, scancel := context.WithTimeout(tab.ctx, 5*time.Second)
			text, _ := chromedp.Run(sctx, chromedp.Evaluate[string]("document.body.innerText"))
			png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
			f := filepath.Join(dir, tab.name+".png")
			if err == nil {
				err = os.WriteFile(f, png, 0o644)
			}
			t.Logf("tab %s: screenshot %s (%v); page text:\n%s", tab.name, f, err, text)
			scancel()
		}
		t.Fatalf(format, args...)
	}
	// waitText waits until the element's text contains want.
	waitText := func(tab int, sel, want string) {
		t.Helper()
		var got string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var err error
			got, err = chromedp.Run(tabs[tab].ctx, chromedp.Evaluate[string](`document.querySelector("`+sel+`").textContent`))
			if err != nil {
				fail("tab %s: read %s: %v", tabs[tab].name, sel, err)
			}
			if strings.Contains(got, want) {
				return
			}
		}
		fail("tab %s: %s is %q, want it to contain %q", tabs[tab].name, sel, got, want)
	}

	for i, tab := range tabs {
		if err := chromedp.Do(tab.ctx, chromedp.Navigate(tab.url)); err != nil {
			fail("tab %s: open %s: %v", tab.name, tab.url, err)
		}
		waitText(i, "#status", "connected")
		if err := chromedp.Do(tab.ctx,
			chromedp.SetValue(chromedp.CSS("#room"), "lobby"),
			chromedp.Click(chromedp.CSS("#join button")),
		); err != nil {
			fail("tab %s: join: %v", tab.name, err)
		}
		waitText(i, "#log", `"type":"room_joined"`)
	}
	if err := chromedp.Do(a,
		chromedp.SendKeys(chromedp.CSS("#text"), "hello from the first tab"),
		chromedp.Click(chromedp.CSS("#send button")),
	); err != nil {
		fail("send: %v", err)
	}
	waitText(1, "#log", "demo: hello from the first tab")
}

// TestServeOriginFollowsListen: the default config's same-origin rule
// follows the address served, so a page from another port of the same
// host is refused while the page's own origin is allowed.
func TestServeOriginFollowsListen(t *testing.T) {
	page := startDemo(t)
	base := strings.TrimSuffix(page[:strings.Index(page, "?")], "/")
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws" + page[strings.Index(page, "?"):]
	for origin, want := range map[string]int{
		base: http.StatusSwitchingProtocols,
		strings.Replace(base, "127.0.0.1", "localhost", 1): http.StatusForbidden, // Host is 127.0.0.1
		"http://127.0.0.1:8080":                            http.StatusForbidden,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, resp, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		cancel()
		if err == nil {
			c.CloseNow()
		}
		if resp == nil || resp.StatusCode != want {
			t.Errorf("Origin %s: resp %v err %v, want %d", origin, resp, err, want)
		}
	}
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `content="/ws"`) || strings.Contains(string(body), page[strings.Index(page, "=")+1:]) {
		t.Fatalf("GET / = %d, want the page with the path and without the token:\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("Content-Security-Policy = %q", csp)
	}
}
