// Package plugins runs Switchboard's WebAssembly plugins on wazero: it
// compiles each plugin once, keeps a bounded pool of pre-initialized
// instances per plugin, calls the guest once per message through the ABI
// described in ABI.md, and enforces each plugin's limits (timeout, memory,
// a stack budget, on_error, a circuit breaker) whatever the guest's
// control flow.
//
// A Host is built per loaded config and owns the runtimes:
//
//	h := plugins.NewHost(plugins.HostOptions{Logger: logger})
//	defer h.Close(ctx)
//	p, err := h.Load(ctx, &plugins.Spec{Name: "no_links", Source: "no_links.wasm"})
//	...
//	v := p.HandleMessage(ctx, &plugins.MessageInput{Envelope: env, Route: "send_message", UserID: "u1"})
//
// A failing plugin never fails the server: traps, timeouts, memory faults,
// stack overflows, exits and malformed results become a Verdict per the
// plugin's on_error, and the broken instance is replaced in the background.
// Such a verdict is marked Failed, for the caller to count against the
// sender. When many of the plugin's recent calls failed, for more than one
// user, its breaker opens and calls fail at once for a cooldown.
//
// The package knows no config format: the router builds a Spec per
// `plugin` block. Native Go policies belong to the router (router.WithPolicy).
package plugins
