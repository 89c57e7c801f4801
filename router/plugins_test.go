package router_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
	"github.com/switchboard-rt/switchboard/router"
)

// The real nolinks plugin, compiled from source, on the default protocol's
// send_message route.
func nolinksHCL(t *testing.T) string {
	wasm := wasmbuild.Build(t, "../examples/plugins/nolinks")
	hcl := defaultHCL(t) + `
plugin "no_links" {
  source  = "` + wasm + `"
  config  = { allow = ["example.com"] }
  timeout = "50ms"
}
`
	return strings.Replace(hcl, `  rate = "20/s"

  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
    as             = "message_received"`, `  rate = "20/s"
  plugins = [plugin.no_links]

  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
    as             = "message_received"`, 1)
}

func TestWasmPluginOnRoute(t *testing.T) {
	hcl := nolinksHCL(t)
	if !strings.Contains(hcl, "plugins = [plugin.no_links]") {
		t.Fatal("router.hcl changed: the test could not put the plugin on send_message")
	}
	s := startServer(t, hcl)
	a, b := s.dial("alice"), s.dial("bob")
	a.join("r")
	b.join("r")
	a.expect("user_joined")

	a.send(`{"type":"send_message","roomId":"r","text":"see https://docs.example.com/x","id":"ok"}`)
	if m := b.expect("message_received"); !strings.Contains(m["text"].(string), "docs.example.com") {
		t.Fatalf("allowed link: %v", m)
	}
	a.expect("ack")
	a.send(`{"type":"send_message","roomId":"r","text":"buy at http://evil.example","id":"bad"}`)
	if m := a.expect("error"); m["code"] != "link_not_allowed" || m["id"] != "bad" {
		t.Fatalf("foreign link: %v", m)
	}
	b.expectNothing()
}

func TestEvaluate(t *testing.T) {
	t.Setenv("SWITCHBOARD_JWT_SECRET", testSecret)
	cfg, err := router.ParseConfig([]byte(nolinksHCL(t)), "t.hcl")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := router.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	ctx := context.Background()
	cases := []struct {
		msg, verdict, code, room string
	}{
		{`{"type":"send_message","roomId":"lobby","text":"hi"}`, "deliver", "", "lobby"},
		{`{"type":"send_message","roomId":"lobby","text":"http://evil.example"}`, "reject", "link_not_allowed", ""},
		{`{"type":"send_message","roomId":"lobby"}`, "reject", router.CodeInvalidField, ""},
		{`{"type":"join_room","roomId":"lobby"}`, "join", "", "lobby"},
		{`{"type":"join_room","roomId":"user:bob"}`, "reject", router.CodeForbidden, ""},
		{`{"type":"nope"}`, "reject", router.CodeUnknownType, ""},
	}
	for _, tc := range cases {
		res := rt.Evaluate(ctx, "alice", nil, []byte(tc.msg))
		if res.Verdict != tc.verdict || res.Room != tc.room {
			t.Errorf("%s: %+v", tc.msg, res)
		}
		if tc.code != "" && (res.Error == nil || res.Error.Code != tc.code) {
			t.Errorf("%s: error %+v, want %s", tc.msg, res.Error, tc.code)
		}
	}
	res := rt.Evaluate(ctx, "alice", nil, []byte(`{"type":"send_message","roomId":"lobby","text":"hi","userId":"x"}`))
	if !strings.Contains(string(res.Payload), `"userId":"alice"`) || !strings.Contains(string(res.Payload), `"type":"message_received"`) {
		t.Fatalf("payload %s", res.Payload)
	}
}
