package config_test

import (
	"fmt"
	"os"

	"github.com/switchboard-rt/switchboard/router/config"
)

func ExampleParse() {
	src := []byte(`
route "send_message" {
  rate = "20/s"
  deliver {
    to   = "room"
    room = "chat:${msg.roomId}"
  }
}
`)
	c, err := config.Parse(src, "router.hcl")
	if err != nil {
		_ = config.WriteDiagnostics(os.Stderr, err, 80, false)
		return
	}
	r := c.Route("send_message")
	fmt.Println(r.Deliver.To, r.Deliver.Room, r.Deliver.As, r.Rate.Count, r.Rate.Per)
	// Output: room "chat:${msg.roomId}" send_message 20 1s
}

func ExampleWriteDiagnostics() {
	src := []byte(`
route "send_message" {
  plugins = [plugin.no_links]
  deliver {
    to = "rooms"
  }
}
`)
	_, err := config.Parse(src, "router.hcl")
	_ = config.WriteDiagnostics(os.Stdout, err, 0, false)
	// Output:
	// Error: Unknown plugin
	//
	//   on router.hcl line 3, in route "send_message":
	//    3:   plugins = [plugin.no_links]
	//
	// There is no plugin "no_links". Declare it with a plugin "no_links" { source = "..." } block, or fix the name.
	//
	// Error: Invalid delivery target
	//
	//   on router.hcl line 5, in route "send_message":
	//    5:     to = "rooms"
	//
	// "rooms" is not one of "room", "user", "sender", "broadcast", "none". Did you mean "room"?
	//
}
