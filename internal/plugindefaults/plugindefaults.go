// Package plugindefaults holds the defaults of a plugin's limits in one
// place: router/config fills them into a decoded `plugin` block (its checks
// and `switchboard validate` see the effective values), and package plugins
// applies them to the zero fields of a plugins.Spec. It imports nothing, so
// neither package depends on the other.
package plugindefaults

import "time"

// Defaults of a plugin block / plugins.Spec.
const (
	Timeout         = 10 * time.Millisecond // per call
	Memory          = 16 << 20              // bytes
	OnError         = "reject"
	BreakerFailures = 10 // of the last BreakerWindow calls
	BreakerWindow   = 20
	BreakerUsers    = 2 // at most BreakerFailures
	BreakerCooldown = 5 * time.Second
)
