// Package hook connects the Go guest SDK to sdktest when a plugin runs
// natively (not compiled to wasm): the SDK registers its entry points here,
// and the harness supplies what the host would (config, log, counters).
package hook

// Set by package sdk.
var (
	Init    func(out []byte) (errLen int)
	Message func(in, out []byte) uint64
	Connect func(in, out []byte) uint64
	// HasMessage and HasConnect report whether the plugin registered those handlers.
	HasMessage, HasConnect func() bool
)

// Set by the harness.
var (
	Config []byte                         // the plugin's config as JSON
	Log    func(level int32, msg string)  // nil: dropped
	Count  func(name string, delta int64) // nil: dropped
	// GrowOut replaces the output buffer with one of at least n bytes and
	// returns it, as the wasm SDK does for an output larger than out_cap.
	GrowOut func(n int) []byte
)
