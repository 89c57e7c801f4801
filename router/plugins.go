package router

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/router/config"
	"github.com/switchboard-rt/switchboard/sdk/abi"
)

// wasmPolicy runs a WebAssembly plugin as a route's policy.
type wasmPolicy struct{ p *plugins.Plugin }

func (w wasmPolicy) HandleMessage(ctx context.Context, m *Message) Verdict {
	claims := m.claimsJSON
	if claims == nil && m.Claims != nil {
		claims, _ = json.Marshal(m.Claims)
	}
	return w.p.HandleMessage(ctx, &plugins.MessageInput{
		Envelope: m.Payload, Route: m.Type, UserID: m.UserID, ConnID: m.ConnID, RemoteAddr: m.Remote, Claims: claims,
	})
}

// loadPlugins compiles the config's WASM plugins and checks that its
// native ones were given with WithPolicy.
func (r *Router) loadPlugins(o *options) (map[string]Policy, []plugins.ConnectPolicy, error) {
	policies := map[string]Policy{}
	for name, p := range o.policies {
		policies[name] = p
	}
	wasm := map[string]*plugins.Plugin{}
	var loaded []*plugins.Plugin
	for _, pc := range r.cfg.Plugins {
		if pc.Native {
			if policies[pc.Name] == nil {
				return nil, nil, fmt.Errorf("plugin %q is native: pass it to router.New with router.WithPolicy(%q, ...)", pc.Name, pc.Name)
			}
			continue
		}
		if r.host == nil {
			r.host = plugins.NewHost(plugins.HostOptions{Logger: r.log})
		}
		p, err := r.host.Load(context.Background(), PluginSpec(pc))
		if err != nil {
			return nil, nil, err
		}
		wasm[pc.Name] = p
		loaded = append(loaded, p)
		policies[pc.Name] = wasmPolicy{p}
	}

	var connect []plugins.ConnectPolicy
	for _, name := range r.cfg.Auth.Plugins {
		p := wasm[name]
		if p == nil || !p.HandlesConnect() {
			return nil, nil, fmt.Errorf("auth: plugin %q has no connect handler (a connect-phase plugin exports %q)", name, abi.ExportConnect)
		}
		connect = append(connect, p)
	}
	if o.metrics != nil && len(loaded) > 0 {
		if err := o.metrics.Register(newPluginCollector(loaded)); err != nil {
			return nil, nil, fmt.Errorf("plugin metrics: %v", err)
		}
	}
	return policies, connect, nil
}

// connectInput describes the upgrade request to connect-phase plugins.
func connectInput(req *http.Request) *plugins.ConnectInput {
	return &plugins.ConnectInput{
		Method: req.Method, Path: req.URL.Path, RemoteAddr: req.RemoteAddr,
		Header: req.Header, Query: req.URL.Query(), Cookies: req.Cookies(), Subprotocols: offeredSubprotocols(req.Header),
	}
}

// PluginSpec is what the plugin host needs from a `plugin` block: the
// router/config types stay out of package plugins.
func PluginSpec(pc *config.Plugin) *plugins.Spec {
	return &plugins.Spec{
		Name: pc.Name, Source: pc.Source, Config: pc.Config,
		Timeout: pc.Timeout, Memory: pc.Memory, Pool: pc.Pool, OnError: pc.OnError,
		Breaker: plugins.Breaker{
			Failures: pc.Breaker.Failures, Window: pc.Breaker.Window,
			Users: pc.Breaker.Users, Cooldown: pc.Breaker.Cooldown,
		},
	}
}
