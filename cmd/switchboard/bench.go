package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-rt/switchboard/internal/bench"
)

const benchUsage = `usage: switchboard bench fanout|idle|connect|slow [flags]

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
figure beside the baseline's. Use --url (and --secret, --pid) for a server
already running.

Example (server on core 0, load on core 1):
  switchboard bench fanout --baseline --server-cpu 0 --load-cpu 1

Flags:
`

func benchCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "baseline-server" {
		return baselineServer(args[1:], stderr)
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, benchUsage)
		return 2
	}
	cfg := bench.Config{Scenario: args[0], Command: "switchboard bench " + strings.Join(args, " ")}
	fl := flag.NewFlagSet("bench "+args[0], flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, benchUsage); fl.PrintDefaults() }
	fl.StringVar(&cfg.URL, "url", "", "`ws://` URL of a running server (default: start one)")
	fl.StringVar(&cfg.Secret, "secret", os.Getenv("SWITCHBOARD_JWT_SECRET"), "JWT `secret` for tokens (default $SWITCHBOARD_JWT_SECRET; random for servers bench starts)")
	fl.IntVar(&cfg.PID, "pid", 0, "`pid` of the --url server, for its RSS and CPU")
	config := fl.String("c", "", "config `file` for the started server (default ./router.hcl, else the built-in one)")
	fl.StringVar(&cfg.Path, "path", "/ws", "WebSocket `path` of the started servers")
	fl.IntVar(&cfg.ServerCPU, "server-cpu", -1, "pin started servers to this `cpu` with taskset (-1: no)")
	fl.IntVar(&cfg.LoadCPU, "load-cpu", -1, "pin the load generator to this `cpu` (-1: no)")
	fl.BoolVar(&cfg.Baseline, "baseline", false, "also run against a naive gws server and report ratios")
	fl.BoolVar(&cfg.JSON, "json", false, "print the report as JSON")
	fl.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the load generator's CPU profile to `file`")

	fl.IntVar(&cfg.Fanout.Members, "subscribers", 1000, "fanout: connections in the room, publishers included")
	// The defaults are the ramp docs/BENCHMARKS.md runs: from a rate both
	// servers sustain up past where either stops.
	fl.Float64Var(&cfg.Fanout.Rate, "rate", 60, "fanout: messages/s (the first step's)")
	fl.Float64Var(&cfg.Fanout.Step, "step", 1.5, "fanout: multiply the rate by this `factor` each step until not sustained (0: one step)")
	fl.IntVar(&cfg.Fanout.Steps, "steps", 13, "fanout: at most this many steps")
	fl.DurationVar(&cfg.Fanout.Duration, "duration", 4*time.Second, "fanout: sending time per step")
	fl.Float64Var(&cfg.Fanout.PublisherRate, "publisher-rate", 15, "fanout: messages/s per publishing connection, under the route's rate limit (0: one publisher)")
	fl.StringVar(&cfg.Fanout.Room, "room", "bench", "fanout: room name")
	fl.DurationVar(&cfg.Fanout.MaxP99, "max-p99", 50*time.Millisecond, "fanout: a step is sustained with ≥ 99.9% delivered and p99 latency at most this")

	fl.IntVar(&cfg.Idle.Conns, "conns", 10000, "idle: connections")
	fl.IntVar(&cfg.Idle.RoomSize, "room-size", 10, "idle: connections per room")
	fl.DurationVar(&cfg.Idle.Settle, "settle", 2*time.Second, "idle: wait before reading RSS")

	fl.IntVar(&cfg.Connect.Concurrency, "concurrency", 32, "connect: handshakes in flight")
	fl.DurationVar(&cfg.Connect.Duration, "for", 5*time.Second, "connect: how long to keep connecting")
	fl.IntVar(&cfg.Connect.MaxConnects, "max", 1_000_000, "connect: stop after this many handshakes")
	// The defaults are issue 9's scenario; 12 publishers stay under the
	// default route rate of 20/s each.
	fl.IntVar(&cfg.Slow.Silent, "silent", 5000, "slow: members that never read")
	fl.IntVar(&cfg.Slow.SlowReaders, "slow-readers", 200, "slow: members that read --slow-rate frames/s")
	fl.Float64Var(&cfg.Slow.SlowRate, "slow-rate", 10, "slow: frames/s a slow reader reads")
	fl.IntVar(&cfg.Slow.Fast, "fast", 50, "slow: members that read everything (with --drop: the room's readers)")
	fl.IntVar(&cfg.Slow.Publishers, "publishers", 12, "slow: publishing members")
	fl.Float64Var(&cfg.Slow.Rate, "pub-rate", 200, "slow: messages/s, all publishers together")
	fl.IntVar(&cfg.Slow.Size, "size", 1024, "slow: bytes of text per message")
	fl.DurationVar(&cfg.Slow.Duration, "send-for", 20*time.Second, "slow: sending time")
	fl.DurationVar(&cfg.Slow.After, "after", 5*time.Second, "slow: wait after sending before the last figures")
	fl.IntVar(&cfg.Slow.SilentRcvbuf, "silent-rcvbuf", 4096, "slow: the silent members' socket receive buffer in `bytes`, which on loopback counts in the host's TCP memory (0: the kernel's default)")
	fl.IntVar(&cfg.Slow.Drop, "drop", 0, "slow: instead of publishing, this many fast members drop their TCP connections at once")
	fl.StringVar(&cfg.Slow.Room, "slow-room", "bench", "slow: room name")
	if err := fl.Parse(args[1:]); err != nil {
		return 2
	}
	if *config != "" {
		cfg.ServeArgs = []string{"-c", *config}
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "switchboard bench: %v\n", err)
		return 1
	}
	cfg.Exe = exe
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := bench.Execute(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "switchboard bench: %v\n", err)
		return 1
	}
	return 0
}

// baselineServer is the hidden `bench baseline-server`, the process the
// bench starts for --baseline.
func baselineServer(args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("bench baseline-server", flag.ContinueOnError)
	fl.SetOutput(stderr)
	listen := fl.String("listen", "127.0.0.1:8090", "listen `address`")
	path := fl.String("path", "/ws", "WebSocket `path`")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	secret := os.Getenv("SWITCHBOARD_JWT_SECRET")
	if secret == "" {
		fmt.Fprintln(stderr, "switchboard bench baseline-server: set SWITCHBOARD_JWT_SECRET")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench.ServeBaseline(ctx, *listen, *path, []byte(secret)); err != nil {
		fmt.Fprintf(stderr, "switchboard bench baseline-server: %v\n", err)
		return 1
	}
	return 0
}
