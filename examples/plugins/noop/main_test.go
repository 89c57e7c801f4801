package main

import (
	"testing"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/sdk/sdktest"
)

func TestNoop(t *testing.T) {
	sdktest.Run(t, ".", nil, func(t *testing.T, p sdktest.Plugin) {
		v := p.Message(t, &plugins.MessageInput{Envelope: []byte(`{"type":"x"}`), Route: "x"})
		if v.Action != plugins.Allow {
			t.Fatalf("got %+v", v)
		}
	})
}
