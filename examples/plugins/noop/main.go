// Command noop is a plugin that allows every message. It measures the cost
// of the plugin machinery itself (see docs/BENCHMARKS.md).
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o noop.wasm ./examples/plugins/noop
package main

import "github.com/switchboard-rt/switchboard/sdk"

func init() {
	sdk.HandleMessage(func(*sdk.Message) sdk.Verdict { return sdk.Allow() })
}

func main() {}
