package router_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
)

// TestRecursingPluginDoesNotStallOthers: while one client's message runs a
// guest that recurses without loops (for seconds, until its timeout), other
// connections are served. With one P the guest's goroutine would hold it
// for the whole call if the guest never left native code: bob's replies
// would then come after alice's error. They must come before it.
func TestRecursingPluginDoesNotStallOthers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	wasm := wasmbuild.Build(t, "../plugins/testdata/recurse.wat")
	s := startServer(t, defaultHCL(t)+`
plugin "recurse" {
  source  = "`+wasm+`"
  timeout = "2s"
  pool    = 1
}

route "mutual" {
  plugins = [plugin.recurse]
  deliver {
    to = "sender"
  }
}
`)
	a, b := s.dial("alice"), s.dial("bob")
	a.send(`{"type":"mutual"}`)
	aliceDone := make(chan map[string]any, 1)
	go func() {
		m, err := a.readErr(30 * time.Second)
		if err != nil {
			t.Errorf("alice: %v", err)
		}
		aliceDone <- m
	}()
	// Give alice's call a head start (not a timed assertion: bob's replies
	// only have to come before her answer).
	time.Sleep(100 * time.Millisecond)
	for i := range 5 {
		b.join("room" + string(rune('a'+i)))
		select {
		case m := <-aliceDone:
			t.Fatalf("alice was answered (%v) before bob's join %d", m, i)
		default:
		}
	}
	if m := <-aliceDone; m["type"] != "error" || m["code"] != "plugin_error" {
		t.Fatalf("alice: %v, want a plugin_error (timeout)", m)
	}
}
