package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/switchboard-rt/switchboard/internal/bench"
)

const benchUsage = `usage: switchboard bench fanout|idle|connect|slow [flags]

commands:
  fanout   members in one room, publishers stepping the message rate up:
           delivered ratio, deliveries/s, latency p50/p99/max per rate
  idle     authenticated connections joined to rooms: server RSS per connection
  connect  WebSocket handshakes per second with JWT auth
  slow     one room of members that never read, members that read a few
           frames/s, fast members and publishers: who the server closes,
           deliveries, p99, server CPU and the host's kernel TCP memory;
           with --drop N, N fast members drop their connections at once
           instead, and the others must get every user_left

By default bench starts 'switchboard serve' itself on 127.0.0.1 (and, with
--baseline, a naive gws server for the same protocol) and reports each
figure beside the baseline's. The started server runs without
limits.connect_rate: the load comes from one address. Use --url (and --secret, --pid) for a server
already running.

Example (server on core 0, load on core 1):
  switchboard bench fanout --baseline --server-cpu 0 --load-cpu 1

Run 'switchboard bench <command> -h' for its flags.
`

// benchAbout describes each scenario in its -h.
var benchAbout = map[string]string{
	"fanout":  "Members in one room, publishers stepping the message rate up until a step is\nnot sustained: delivered ratio, deliveries/s, latency p50/p99/max per rate.",
	"idle":    "Authenticated connections joined to rooms, then idle: the server's RSS per\nconnection.",
	"connect": "WebSocket handshakes per second with JWT auth.",
	"slow":    "One room of members that never read, members that read a few frames/s, fast\nmembers and publishers: who the server closes, deliveries, p99, server CPU and\nthe host's kernel TCP memory. With --drop N, N fast members drop their\nconnections at once instead, and the others must get every user_left.",
}

func benchCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "baseline-server" {
		return baselineServer(args[1:], stdout, stderr)
	}
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, benchUsage)
		return 2
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help":
		fmt.Fprint(stdout, benchUsage)
		return 0
	case benchAbout[args[0]] == "":
		fmt.Fprintf(stderr, "switchboard: bench: unknown command %q\n\n%s", args[0], benchUsage)
		return 2
	}
	scenario := args[0]
	cfg := bench.Config{Scenario: scenario, Command: "switchboard bench " + strings.Join(args, " ")}
	// Each scenario defines the flags common to all and its own, so that
	// its -h describes what applies to it.
	fl := newFlagSet("bench "+scenario, "[flags]", benchAbout[scenario]+"\nBy default bench starts 'switchboard serve' itself (see 'switchboard bench -h').", stderr)
	fl.StringVar(&cfg.URL, "url", "", "`ws://` URL of a running server (default: start one)")
	// Not the flag's default, which -h would print.
	fl.StringVar(&cfg.Secret, "secret", "", "JWT `secret` for tokens (default $SWITCHBOARD_JWT_SECRET; random for servers bench starts)")
	fl.IntVar(&cfg.PID, "pid", 0, "`pid` of the --url server, for its RSS and CPU")
	config := fl.String("c", "", "config `file` for the started server (default ./router.hcl, else the built-in one)")
	fl.StringVar(&cfg.Path, "path", "/ws", "WebSocket `path` of the started servers")
	fl.IntVar(&cfg.ServerCPU, "server-cpu", -1, "pin started servers to this `cpu` with taskset (-1: no)")
	fl.IntVar(&cfg.LoadCPU, "load-cpu", -1, "pin the load generator to this `cpu` (-1: no)")
	fl.BoolVar(&cfg.Baseline, "baseline", false, "also run against a naive gws server and report ratios")
	fl.BoolVar(&cfg.JSON, "json", false, "print the report as JSON")
	fl.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the load generator's CPU profile to `file`")

	switch scenario {
	case "fanout":
		fl.IntVar(&cfg.Fanout.Members, "subscribers", 1000, "connections in the room, publishers included")
		// The defaults are the ramp docs/BENCHMARKS.md runs: from a rate both
		// servers sustain up past where either stops.
		fl.Float64Var(&cfg.Fanout.Rate, "rate", 60, "messages/s (the first step's)")
		fl.Float64Var(&cfg.Fanout.Step, "step", 1.5, "multiply the rate by this `factor` each step until not sustained (0: one step)")
		fl.IntVar(&cfg.Fanout.Steps, "steps", 13, "at most this many steps")
		fl.DurationVar(&cfg.Fanout.Duration, "duration", 4*time.Second, "sending time per step")
		fl.Float64Var(&cfg.Fanout.PublisherRate, "publisher-rate", 15, "messages/s per publishing connection, under the route's rate limit (0: one publisher)")
		fl.StringVar(&cfg.Fanout.Room, "room", "bench", "room name")
		fl.DurationVar(&cfg.Fanout.MaxP99, "max-p99", 50*time.Millisecond, "a step is sustained with ≥ 99.9% delivered and p99 latency at most this")
	case "idle":
		fl.IntVar(&cfg.Idle.Conns, "conns", 10000, "connections")
		fl.IntVar(&cfg.Idle.RoomSize, "room-size", 10, "connections per room")
		fl.DurationVar(&cfg.Idle.Settle, "settle", 2*time.Second, "wait before reading RSS")
	case "connect":
		fl.IntVar(&cfg.Connect.Concurrency, "concurrency", 32, "handshakes in flight")
		fl.DurationVar(&cfg.Connect.Duration, "for", 5*time.Second, "how long to keep connecting")
		fl.IntVar(&cfg.Connect.MaxConnects, "max", 1_000_000, "stop after this many handshakes")
	case "slow":
		// The defaults are issue 9's scenario; 12 publishers stay under the
		// default route rate of 20/s each.
		fl.IntVar(&cfg.Slow.Silent, "silent", 5000, "members that never read")
		fl.IntVar(&cfg.Slow.SlowReaders, "slow-readers", 200, "members that read --slow-rate frames/s")
		fl.Float64Var(&cfg.Slow.SlowRate, "slow-rate", 10, "frames/s a slow reader reads")
		fl.IntVar(&cfg.Slow.Fast, "fast", 50, "members that read everything (with --drop: the room's readers)")
		fl.IntVar(&cfg.Slow.Publishers, "publishers", 12, "publishing members")
		fl.Float64Var(&cfg.Slow.Rate, "pub-rate", 200, "messages/s, all publishers together")
		fl.IntVar(&cfg.Slow.Size, "size", 1024, "bytes of text per message")
		fl.DurationVar(&cfg.Slow.Duration, "send-for", 20*time.Second, "sending time")
		fl.DurationVar(&cfg.Slow.After, "after", 5*time.Second, "wait after sending before the last figures")
		fl.IntVar(&cfg.Slow.SilentRcvbuf, "silent-rcvbuf", 4096, "the silent members' socket receive buffer in `bytes`, which on loopback counts in the host's TCP memory (0: the kernel's default)")
		fl.IntVar(&cfg.Slow.Drop, "drop", 0, "instead of publishing, this many fast members drop their TCP connections at once")
		fl.StringVar(&cfg.Slow.Room, "room", "bench", "room name")
	}
	if code, done := parseFlags(fl, args[1:], stdout, stderr); done {
		return code
	}
	if cfg.Secret == "" {
		cfg.Secret = os.Getenv("SWITCHBOARD_JWT_SECRET")
	}
	if *config != "" {
		cfg.ServeArgs = []string{"-c", *config}
	}
	if cfg.URL == "" {
		path, err := benchConfig(*config)
		if err != nil {
			fmt.Fprintf(stderr, "switchboard: bench: %v\n", err)
			return 1
		}
		if path != "" {
			defer os.Remove(path)
			cfg.ServeArgs = []string{"-c", path}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: bench: %v\n", err)
		return 1
	}
	cfg.Exe = exe
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := bench.Execute(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "switchboard: bench: %v\n", err)
		return 1
	}
	return 0
}

// baselineServer is the hidden `bench baseline-server`, the process the
// bench starts for --baseline.
func baselineServer(args []string, stdout, stderr io.Writer) int {
	fl := newFlagSet("bench baseline-server", "[--listen ADDR] [--path PATH]", "The naive gws server bench --baseline starts (not for use by hand).", stderr)
	listen := fl.String("listen", "127.0.0.1:8090", "listen `address`")
	path := fl.String("path", "/ws", "WebSocket `path`")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	secret := os.Getenv("SWITCHBOARD_JWT_SECRET")
	if secret == "" {
		fmt.Fprintln(stderr, "switchboard: bench baseline-server: set SWITCHBOARD_JWT_SECRET")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench.ServeBaseline(ctx, *listen, *path, []byte(secret)); err != nil {
		fmt.Fprintf(stderr, "switchboard: bench baseline-server: %v\n", err)
		return 1
	}
	return 0
}

// benchConfig is the config for the server bench starts: path's (or
// ./router.hcl's, or the built-in one's) without limits.connect_rate and
// connect_burst, written to a temporary file next to it (so relative plugin
// paths still resolve), since the load generator connects from one
// address. It returns "" when the config sets no connect_rate.
func benchConfig(path string) (string, error) {
	src, name, err := readConfig(path)
	if err != nil {
		return "", err
	}
	f, diags := hclwrite.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return "", diags // serve reports it the same way
	}
	limits := f.Body().FirstMatchingBlock("limits", nil)
	if limits == nil || limits.Body().GetAttribute("connect_rate") == nil {
		return "", nil
	}
	limits.Body().RemoveAttribute("connect_rate")
	limits.Body().RemoveAttribute("connect_burst")
	dir := ""
	if name != "router.hcl (built in)" {
		dir = filepath.Dir(name)
	}
	tmp, err := os.CreateTemp(dir, ".switchboard-bench-*.hcl")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(f.Bytes()); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), tmp.Close()
}
