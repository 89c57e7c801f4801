// Package sdk is the Go SDK for Switchboard plugins.
//
// A plugin is a Go main package compiled to WebAssembly:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o myplugin.wasm .
//
// It registers its handlers in init; the SDK provides the exports the host
// calls (see plugins/ABI.md):
//
//	package main
//
//	import "github.com/switchboard-rt/switchboard/sdk"
//
//	func init() {
//		sdk.HandleMessage(func(m *sdk.Message) sdk.Verdict {
//			if text, _ := m.String("text"); len(text) > 2000 {
//				return sdk.Reject("too_long", "text is longer than 2000 bytes")
//			}
//			return sdk.Allow()
//		})
//	}
//
//	func main() {}
//
// Handlers run one at a time per instance; the host keeps a pool of
// instances. Values handed to a handler (the Message, strings and byte
// slices read from it) point into the input buffer and are valid only until
// the handler returns: copy them (strings.Clone, bytes.Clone) to keep them.
//
// The field accessors scan the envelope's JSON in place and allocate
// nothing for strings without escapes. Prefer them to encoding/json on the
// message path: decoding with reflection costs microseconds per message.
//
// RewriteStrings builds a transformed envelope from the top-level string
// fields a plugin changes, ConfigStrict refuses misspelt config keys, and
// Message.ClaimStrings reads list claims such as roles.
//
// The same package builds natively, so a plugin's logic can be tested with
// plain go test; package sdktest runs the registered handlers natively and
// under the real host. `switchboard plugin run FILE.wasm < envelope.json`
// runs any built plugin, in any language, once under the real host and
// prints its verdict (sdk/README.md, which has a plugin in WAT).
package sdk
