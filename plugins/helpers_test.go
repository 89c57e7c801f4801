package plugins

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
)

// guests are the conformance plugins: the same behavior in WAT and in Go.
var guests = []struct{ name, src string }{
	{"wat", "testdata/conformance.wat"},
	{"go", "testdata/goguest"},
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// wasm builds src (once per test binary) and returns the .wasm path.
func wasm(tb testing.TB, src string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[src]; ok {
		return p
	}
	p := wasmbuild.Build(tb, src)
	built[src] = p
	return p
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newHost(tb testing.TB, enforce enforcement) (*Host, *logBuffer) {
	tb.Helper()
	logs := &logBuffer{}
	h := NewHost(HostOptions{
		CacheDir: filepath.Join(wasmbuild.Dir(), "compiled"),
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	h.enforce = enforce
	tb.Cleanup(func() { h.Close(context.Background()) })
	return h, logs
}

func load(tb testing.TB, h *Host, name, src string, cfg map[string]any, mod func(*Spec)) *Plugin {
	tb.Helper()
	pc := &Spec{Name: name, Source: wasm(tb, src), Config: cfg, Pool: 1, Timeout: 50 * time.Millisecond}
	if mod != nil {
		mod(pc)
	}
	p, err := h.Load(context.Background(), pc)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// waitInstances waits until the plugin's pool is back to n live instances.
func waitInstances(tb testing.TB, p *Plugin, n int) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for p.Stats().Instances != n {
		if time.Now().After(deadline) {
			tb.Fatalf("pool did not recover: %d instances, want %d", p.Stats().Instances, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
