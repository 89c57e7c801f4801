// Command goguest is the Go twin of ../conformance.wat: the same behavior,
// chosen by the route name, built with the SDK. The conformance tests run
// both. It also has a connect handler, which the WAT guest lacks.
package main

import (
	"encoding/json"
	"errors"
	"os"
	"strings"

	"github.com/switchboard-rt/switchboard/sdk"
)

var (
	spin uint64   // keeps "loop" from being optimized away
	hog  [][]byte // what "grow" allocates
)

func init() {
	sdk.HandleInit(func() error {
		var cfg struct{ Reject bool }
		if err := sdk.Config(&cfg); err != nil {
			return err
		}
		if cfg.Reject {
			return errors.New("config says reject")
		}
		return nil
	})
	sdk.HandleMessage(func(m *sdk.Message) sdk.Verdict {
		switch m.Route() {
		case "allow":
			return sdk.Allow()
		case "block":
			return sdk.Reject("blocked", m.UserID())
		case "echo":
			return sdk.Transform(m.Envelope())
		case "claims":
			return sdk.Transform(m.Claims())
		case "conn":
			return sdk.Reject("conn", m.ConnID())
		case "remote":
			return sdk.Reject("remote", m.RemoteAddr())
		case "drop":
			return sdk.Drop()
		case "move":
			return sdk.Reroute("room:lobby")
		case "config":
			var raw json.RawMessage
			if err := sdk.Config(&raw); err != nil {
				return sdk.Reject("config", err.Error())
			}
			return sdk.Transform(raw)
		case "log":
			sdk.Log(sdk.LevelInfo, "hello from the guest")
			return sdk.Allow()
		case "count":
			sdk.Count("seen", 2)
			return sdk.Allow()
		case "clock":
			if sdk.Now() > 1577836800000000000 {
				return sdk.Drop()
			}
			return sdk.Allow()
		case "trap":
			panic("trap requested") // a Go panic ends in proc_exit(2)
		case "loop":
			for {
				spin++
			}
		case "grow":
			for {
				hog = append(hog, make([]byte, 1<<20))
			}
		case "exit":
			os.Exit(3)
		case "bad":
			return sdk.Reject("not a code!", "")
		case "big":
			return sdk.Transform(make([]byte, 1<<20))
		}
		return sdk.Allow()
	})
	sdk.HandleConnect(func(c *sdk.Connect) sdk.ConnectVerdict {
		if c.Header("x-api-key") != "secret" {
			return sdk.Deny("bad_key", "wrong API key")
		}
		return sdk.Accept(c.Query("user"), map[string]any{
			"method":       c.Method(),
			"path":         c.Path(),
			"remote":       c.RemoteAddr(),
			"session":      c.Cookie("sid"),
			"subprotocols": strings.Join(c.Subprotocols(), ","),
		})
	})
}

func main() {}
