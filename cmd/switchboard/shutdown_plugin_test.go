package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
	"github.com/switchboard-rt/switchboard/router"
)

// TestServeShutdownDuringPluginCall: SIGTERM stops the server within its
// shutdown deadline while a plugin call is running, here a guest that
// recurses without loops for hours (timeout "1h"). The binary runs on one
// P: a guest that never left native code would keep the signal from ever
// being handled.
func TestServeShutdownDuringPluginCall(t *testing.T) {
	wasm := wasmbuild.Build(t, "../../plugins/testdata/recurse.wat")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "router.hcl")
	if err := os.WriteFile(cfg, []byte(minimalAuth+`
plugin "recurse" {
  source  = "`+wasm+`"
  timeout = "1h"
  pool    = 1
}
route "endless" {
  plugins = [plugin.recurse]
  deliver {
    to = "sender"
  }
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "-c", cfg, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_JWT_SECRET=serve-test", "GOMAXPROCS=1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var logs bytes.Buffer
	sc := bufio.NewScanner(stderr)
	var url string
	for url == "" && sc.Scan() {
		logs.WriteString(sc.Text() + "\n")
		if m := regexp.MustCompile(`url=(\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("serve announced no URL:\n%s", logs.String())
	}
	copied := make(chan struct{})
	go func() { io.Copy(&logs, stderr); close(copied) }()

	tok, _ := router.IssueToken([]byte("serve-test"), "alice", time.Hour, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url+"?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, data, err := c.Read(ctx); err != nil || !bytes.Contains(data, []byte(`"connected"`)) {
		t.Fatalf("connected: %s %v", data, err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"endless"}`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the call is running (it would for hours)

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { <-copied; done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
		if d := time.Since(start); d > shutdownTimeout {
			t.Fatalf("shutdown took %v, deadline %v", d, shutdownTimeout)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("serve did not exit within its %v shutdown deadline after SIGTERM:\n%s", shutdownTimeout, logs.String())
	}
}
