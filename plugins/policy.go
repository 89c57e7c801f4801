package plugins

import "context"

// ConnectPolicy decides about connections at the upgrade: the router's auth
// runs a list of them (wasm *Plugin values) in order.
type ConnectPolicy interface {
	Name() string
	HandleConnect(ctx context.Context, in *ConnectInput) ConnectVerdict
}

var _ ConnectPolicy = (*Plugin)(nil)
