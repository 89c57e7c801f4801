package plugins

import "time"

// Spec is what Host.Load needs to load one plugin. The router builds it
// from a `plugin` block of the config (router/config decodes and checks the
// HCL); a Go caller or a test builds it directly. Zero fields take the
// defaults below, so Spec{Name: "p", Source: "p.wasm"} is complete.
type Spec struct {
	Name   string // for logs, metrics and errors
	Source string // path of the .wasm; read at Load unless Wasm is set
	Wasm   []byte // the module's bytes; when set, Source only names it in errors

	// Config is the plugin's config as JSON-compatible values, given to
	// its init as JSON (encoding/json: keys sorted); nil is {}.
	Config map[string]any

	Timeout time.Duration // per call; 0: DefaultTimeout
	Memory  int           // bytes, 64KiB to 4GiB; 0: DefaultMemory
	Pool    int           // instances; 0: 2*GOMAXPROCS
	OnError string        // "reject" (also "") fails closed on a failure, "allow" lets it through
	Breaker Breaker
}

// Breaker is a plugin's circuit breaker: it opens when Failures of the last
// Window calls failed and those failures came from at least Users distinct
// users (connect calls: remote hosts); while open, calls fail at once with
// OnError; after Cooldown, calls run again. Out-of-range values are clamped
// so that the breaker can open (Window at least Failures, Users at most
// Failures).
type Breaker struct {
	Failures int           // 0: DefaultBreakerFailures; -1 turns the breaker off
	Window   int           // calls; 0: DefaultBreakerWindow
	Users    int           // 0: DefaultBreakerUsers
	Cooldown time.Duration // 0: DefaultBreakerCooldown
}
