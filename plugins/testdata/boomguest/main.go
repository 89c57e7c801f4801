// Command boomguest panics on a message whose text is "boom" and allows
// every other: a Go guest whose failures depend on the sender's input, for
// the circuit breaker's tests (a Go panic ends in proc_exit(2), and the
// instance is replaced).
package main

import (
	"bytes"

	"github.com/switchboard-rt/switchboard/sdk"
)

func init() {
	sdk.HandleMessage(func(m *sdk.Message) sdk.Verdict {
		if bytes.Contains(m.Envelope(), []byte(`"text":"boom"`)) {
			panic("boom")
		}
		return sdk.Allow()
	})
}

func main() {}
