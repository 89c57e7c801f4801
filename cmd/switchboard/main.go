// Command switchboard runs and checks Switchboard routers.
//
//	switchboard serve    [-c FILE] [--listen ADDR] [--pprof ADDR]  run the router
//	switchboard validate [-c FILE]                   check a config, print every problem
//	switchboard token    --sub USER [--ttl 1h]       print a JWT for the configured secret
//	switchboard test     [-c FILE] [-v] [-run TEXT]  run the config's policy tests offline
//	switchboard bench    fanout|idle|connect|slow    load-test a server
//	switchboard plugin   run FILE.wasm [flags]       run a plugin once on an envelope from stdin
//	switchboard version                              print the version, VCS revision and Go version
//
// Every command takes -h (or --help) for its flags, printed to stdout.
// Exit status: 0 done, 1 failed (a bad config, a failing test), 2 bad
// command line. Errors start with "switchboard: ".
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `usage: switchboard <command> [flags]

commands:
  serve     run the router (default config: ./router.hcl, else the built-in one)
  validate  check a config and print every problem found
  token     print a signed token for a user, for the configured JWT secret
  test      run the config's test blocks against its routes and plugins, offline
  bench     load-test a server: fanout, idle, connect or slow
  version   print the version, VCS revision and Go version
  plugin    run FILE.wasm: run a plugin once on an envelope from stdin

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
	case "version":
		return version(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 { // help <command> ... is <command> ... -h
			return run(append(args[1:], "-h"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// newFlagSet returns the flag set of a command, whose usage (-h) reads
//
//	usage: switchboard NAME SYNOPSIS
//
//	ABOUT
//
//	flags:
//	  -c file ...
func newFlagSet(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		w := fl.Output()
		fmt.Fprintf(w, "usage: %s\n\n%s\n", strings.TrimSpace("switchboard "+name+" "+synopsis), about)
		n := 0
		fl.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(w, "\nflags:\n")
			fl.PrintDefaults()
		}
	}
	return fl
}

// parseFlags parses a command's flags, which take no positional
// arguments. -h and --help print the usage to stdout (exit 0); a bad flag
// or an argument prints the error and the usage to stderr (exit 2). done
// says the command returns code now.
func parseFlags(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	err := parseQuiet(fl, args)
	if err == nil && fl.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q: this command takes only flags", fl.Arg(0))
	}
	return flagResult(fl, err, stdout, stderr)
}

// parseQuiet parses flags without printing: flagResult reports.
func parseQuiet(fl *flag.FlagSet, args []string) error {
	out := fl.Output()
	fl.SetOutput(io.Discard)
	defer fl.SetOutput(out)
	return fl.Parse(args)
}

// flagResult turns a flag parsing error into output and an exit code.
func flagResult(fl *flag.FlagSet, err error, stdout, stderr io.Writer) (code int, done bool) {
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		var b bytes.Buffer
		fl.SetOutput(&b)
		fl.Usage()
		fl.SetOutput(stderr)
		stdout.Write(b.Bytes())
		return 0, true
	}
	fmt.Fprintf(stderr, "switchboard: %v\n", err)
	fl.SetOutput(stderr)
	fl.Usage()
	return 2, true
}
