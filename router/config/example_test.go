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
		_ = config.WriteDiagnostics(os.Stderr, err)
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
	_ = config.WriteDiagnostics(os.Stdout, err)
	// Output:
	// router.hcl:3,14-29: Unknown plugin; There is no plugin "no_links". Declare it with a plugin "no_links" { source = "..." } block, or fix the name.
	//     3 |   plugins = [plugin.no_links]
	//       |              ^^^^^^^^^^^^^^^
	// router.hcl:5,10-17: Invalid delivery target; "rooms" is not one of "room", "user", "sender", "broadcast", "none". Did you mean "room"?
	//     5 |     to = "rooms"
	//       |          ^^^^^^^
}
