//go:build !wasip1

package sdk

import (
	"fmt"
	"os"
	"time"

	"github.com/switchboard-rt/switchboard/sdk/internal/hook"
)

// Natively (go test), the host's imports are whatever sdktest set in hook.

func hostLog(level int32, msg string) {
	if hook.Log != nil {
		hook.Log(level, msg)
		return
	}
	fmt.Fprintf(os.Stderr, "plugin log (level %d): %s\n", level, msg)
}

func hostCount(name string, delta int64) {
	if hook.Count != nil {
		hook.Count(name, delta)
	}
}

func hostNow() int64 { return time.Now().UnixNano() }

func configJSON() []byte { return hook.Config }

func growOut(n int) []byte {
	if hook.GrowOut == nil {
		return nil
	}
	return hook.GrowOut(n)
}
