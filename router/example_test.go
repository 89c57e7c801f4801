package router_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/switchboard-rt/switchboard/router"
	"github.com/switchboard-rt/switchboard/router/config"
)

// A room chat: Evaluate shows what the router would do with a message,
// without a server or a connection.
func ExampleRouter_Evaluate() {
	cfg, err := config.Parse([]byte(`
route "send_message" {
  schema {
    field "roomId" {
      type     = "string"
      required = true
    }
    field "text" {
      type     = "string"
      required = true
    }
  }
  deliver {
    to   = "room"
    room = msg.roomId
    as   = "message_received"
  }
}
`), "chat.hcl")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := router.New(cfg, router.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close(context.Background())

	res := r.Evaluate(context.Background(), "alice", nil, []byte(`{"type":"send_message","roomId":"lobby","text":"hi"}`))
	fmt.Println(res.Verdict, res.To, res.Room)
	res = r.Evaluate(context.Background(), "alice", nil, []byte(`{"type":"send_message","text":"hi"}`))
	fmt.Println(res.Verdict, res.Error.Code, res.Error.Field)
	// Output:
	// deliver room lobby
	// reject invalid_field roomId
}

// A policy written in Go, run by the router like a plugin: a route lists
// it as plugin.no_shouting, declared native (no source) in the config.
func ExampleWithPolicy() {
	cfg, err := config.Parse([]byte(`
route "send_message" {
  plugins = [plugin.no_shouting]
  deliver {
    to = "broadcast"
  }
}
plugin "no_shouting" {
  native = true
}
`), "chat.hcl")
	if err != nil {
		fmt.Println(err)
		return
	}
	noShouting := router.PolicyFunc(func(_ context.Context, m *router.Message) router.Verdict {
		var msg struct{ Text string }
		if json.Unmarshal(m.Payload, &msg) == nil && msg.Text != "" && msg.Text == strings.ToUpper(msg.Text) {
			return router.Verdict{Action: router.Reject, Code: "shouting", Reason: "please don't shout"}
		}
		return router.Verdict{Action: router.Allow}
	})
	r, err := router.New(cfg,
		router.WithLogger(slog.New(slog.DiscardHandler)),
		router.WithPolicy("no_shouting", noShouting))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close(context.Background())

	for _, text := range []string{"hello", "HELLO"} {
		res := r.Evaluate(context.Background(), "alice", nil, []byte(`{"type":"send_message","text":"`+text+`"}`))
		if res.Error != nil {
			fmt.Println(text, res.Verdict, res.Error.Code, res.Error.Message)
		} else {
			fmt.Println(text, res.Verdict, res.To)
		}
	}
	// Output:
	// hello deliver broadcast
	// HELLO reject shouting please don't shout
}
