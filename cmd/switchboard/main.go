// Command switchboard runs and checks Switchboard routers.
//
//	switchboard serve    [-c FILE] [--listen ADDR]   run the router
//	switchboard validate [-c FILE]                   check a config, print every problem
//	switchboard token    --sub USER [--ttl 1h]       print a JWT for the configured secret
//	switchboard test     [-c FILE] [-v] [-run TEXT]  run the config's policy tests offline
//	switchboard bench    fanout|idle|connect         load-test a server
//	switchboard plugin   run FILE.wasm [flags]       run a plugin once on an envelope from stdin
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: switchboard <command> [flags]

commands:
  serve     run the router (default config: ./router.hcl, else the built-in one)
  validate  check a config and print every problem found
  token     print a signed token for a user, for the configured JWT secret
  test      run the config's test blocks against its routes and plugins, offline
  bench     load-test a server: fanout, idle or connect (see 'switchboard bench -h')
  plugin    run FILE.wasm: run a plugin once on an envelope from stdin (see 'switchboard plugin -h')

Run 'switchboard <command> -h' for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "test":
		return test(args[1:], stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "plugin":
		return pluginCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n%s", args[0], usage)
	return 2
}
