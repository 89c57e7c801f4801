package plugins

import "context"

// Policy decides about messages: a wasm *Plugin, or native Go code through
// MessageFunc. The router runs a route's policies in order.
type Policy interface {
	Name() string
	HandleMessage(ctx context.Context, in *MessageInput) Verdict
}

// ConnectPolicy decides about connections at the upgrade.
type ConnectPolicy interface {
	Name() string
	HandleConnect(ctx context.Context, in *ConnectInput) ConnectVerdict
}

var (
	_ Policy        = (*Plugin)(nil)
	_ ConnectPolicy = (*Plugin)(nil)
)

// MessageFunc makes a native Go Policy. f must not panic and must be safe
// for concurrent use.
func MessageFunc(name string, f func(ctx context.Context, in *MessageInput) Verdict) Policy {
	return messageFunc{name, f}
}

// ConnectFunc makes a native Go ConnectPolicy.
func ConnectFunc(name string, f func(ctx context.Context, in *ConnectInput) ConnectVerdict) ConnectPolicy {
	return connectFunc{name, f}
}

type messageFunc struct {
	name string
	f    func(context.Context, *MessageInput) Verdict
}

func (m messageFunc) Name() string { return m.name }
func (m messageFunc) HandleMessage(ctx context.Context, in *MessageInput) Verdict {
	return m.f(ctx, in)
}

type connectFunc struct {
	name string
	f    func(context.Context, *ConnectInput) ConnectVerdict
}

func (c connectFunc) Name() string { return c.name }
func (c connectFunc) HandleConnect(ctx context.Context, in *ConnectInput) ConnectVerdict {
	return c.f(ctx, in)
}
