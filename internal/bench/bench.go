package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// Config is one `switchboard bench` invocation.
type Config struct {
	Scenario string // fanout, idle, connect or slow

	// The server: URL for one already running, else Exe (this binary) is
	// started as `serve` with ServeArgs.
	URL       string
	Path      string // WebSocket path of a started server
	Secret    string // JWT secret; random for started servers when empty
	PID       int    // an external server's pid, for RSS and CPU
	Exe       string
	ServeArgs []string // e.g. -c FILE
	ServerCPU int      // pin started servers to this CPU (-1: no)
	LoadCPU   int      // pin this process to this CPU (-1: no)
	Baseline  bool     // also run against the naive gws server

	Fanout  FanoutOptions
	Idle    IdleOptions
	Connect ConnectOptions
	Slow    SlowOptions

	JSON       bool
	Command    string // the command line, recorded in the report
	CPUProfile string // write the load generator's CPU profile here
}

// Report is what a run prints: the table, or this as JSON.
type Report struct {
	Scenario string  `json:"scenario"`
	Command  string  `json:"command"`
	Date     string  `json:"date"`
	Machine  Machine `json:"machine"`
	Runs     []Run   `json:"runs"`
	// Ratios are Switchboard's figures over the baseline's (for memory and
	// latency lower is better, for rates higher is better).
	Ratios map[string]float64 `json:"ratios,omitempty"`
}

// Machine describes where the figures come from.
type Machine struct {
	CPUs      int    `json:"cpus"`
	Model     string `json:"cpu_model"`
	GoVersion string `json:"go"`
	ServerCPU int    `json:"server_cpu"`
	LoadCPU   int    `json:"load_cpu"`
	// Load averages (1, 5, 15 min) before and after: other work on the
	// machine competes with both server and load generator.
	LoadBefore string `json:"loadavg_before"`
	LoadAfter  string `json:"loadavg_after"`
}

// Run is one scenario against one server.
type Run struct {
	Server  string         `json:"server"` // switchboard, baseline, or the URL
	Fanout  *FanoutResult  `json:"fanout,omitempty"`
	Idle    *IdleResult    `json:"idle,omitempty"`
	Connect *ConnectResult `json:"connect,omitempty"`
	Slow    *SlowResult    `json:"slow,omitempty"`
}

// Execute runs the scenario against Switchboard and, with Baseline, the
// baseline server, then writes the report to stdout; progress goes to
// progress.
func Execute(ctx context.Context, cfg Config, stdout, progress io.Writer) (*Report, error) {
	switch cfg.Scenario {
	case "fanout", "idle", "connect", "slow":
	default:
		return nil, fmt.Errorf("unknown scenario %q: want fanout, idle, connect or slow", cfg.Scenario)
	}
	if cfg.Scenario == "slow" && cfg.Baseline {
		return nil, errors.New("slow has no baseline: compare two servers with --url, one run each")
	}
	if cfg.URL != "" && cfg.Baseline {
		return nil, errors.New("--baseline starts both servers itself; it cannot be combined with --url")
	}
	if _, err := RaiseFileLimit(); err != nil {
		fmt.Fprintf(progress, "bench: cannot raise the open-file limit: %v\n", err)
	}
	if cfg.LoadCPU >= 0 {
		if err := PinSelf(cfg.LoadCPU); err != nil {
			return nil, err
		}
	}
	if cfg.CPUProfile != "" {
		// The load generator's own profile: to show whether it, rather
		// than the server, is what limits a figure.
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	secret := []byte(cfg.Secret)
	if len(secret) == 0 {
		if cfg.URL != "" {
			return nil, errors.New("--url needs the server's JWT secret: --secret or SWITCHBOARD_JWT_SECRET")
		}
		var b [32]byte
		_, _ = rand.Read(b[:])
		secret = []byte(hex.EncodeToString(b[:]))
	}
	rep := &Report{
		Scenario: cfg.Scenario, Command: cfg.Command, Date: time.Now().UTC().Format(time.RFC3339),
		Machine: Machine{CPUs: runtime.NumCPU(), Model: cpuModel(), GoVersion: runtime.Version(), ServerCPU: cfg.ServerCPU, LoadCPU: cfg.LoadCPU},
	}
	var servers []server
	if cfg.URL != "" {
		t, err := parseTarget(cfg.URL)
		if err != nil {
			return nil, err
		}
		servers = append(servers, server{name: cfg.URL, t: t, pid: cfg.PID})
	} else {
		// Both servers run for the whole bench, so fan-out steps can
		// alternate between them; an idle server costs the other nothing.
		env := []string{"SWITCHBOARD_JWT_SECRET=" + string(secret)}
		children := []struct {
			name string
			args []string
		}{{"switchboard", append([]string{"serve"}, cfg.ServeArgs...)}}
		if cfg.Baseline {
			children = append(children, struct {
				name string
				args []string
			}{"baseline", []string{"bench", "baseline-server", "--path", cfg.Path}})
		}
		for _, c := range children {
			ch, err := startChild(c.name, cfg.Exe, c.args, env, cfg.ServerCPU, cfg.Path)
			if err != nil {
				return nil, err
			}
			defer ch.stop()
			fmt.Fprintf(progress, "bench: %s is pid %d at %s\n", c.name, ch.pid(), ch.url)
			t, err := parseTarget(ch.url)
			if err != nil {
				return nil, err
			}
			servers = append(servers, server{name: c.name, t: t, pid: ch.pid()})
		}
	}
	rep.Machine.LoadBefore = loadAvg()
	var err error
	rep.Runs, err = runScenario(ctx, cfg, servers, secret, progress)
	if err != nil {
		return nil, err
	}
	rep.Machine.LoadAfter = loadAvg()
	rep.Ratios = ratios(rep.Runs)
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return rep, enc.Encode(rep)
	}
	writeTable(stdout, rep)
	return rep, nil
}

func runScenario(ctx context.Context, cfg Config, servers []server, secret []byte, progress io.Writer) ([]Run, error) {
	runs := make([]Run, len(servers))
	for i, s := range servers {
		runs[i].Server = s.name
	}
	if cfg.Scenario == "fanout" {
		res, err := runFanout(ctx, servers, secret, cfg.Fanout, progress)
		for i := range res {
			runs[i].Fanout = res[i]
		}
		return runs, err
	}
	for i, s := range servers {
		var err error
		switch cfg.Scenario {
		case "idle":
			runs[i].Idle, err = runIdle(ctx, s.t, secret, cfg.Idle, s.pid, s.name, progress)
		case "slow":
			runs[i].Slow, err = runSlow(ctx, s, secret, cfg.Slow, progress)
		default:
			runs[i].Connect, err = runConnect(ctx, s.t, secret, cfg.Connect, s.pid, s.name, progress)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return runs, nil
}

// loadAvg is the 1-minute load average: how busy the shared machine was.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// ratios compares the first run (Switchboard) with the second (baseline).
func ratios(runs []Run) map[string]float64 {
	if len(runs) != 2 {
		return nil
	}
	sb, bl := runs[0], runs[1]
	r := map[string]float64{}
	put := func(k string, a, b float64) {
		if b > 0 {
			r[k] = a / b
		}
	}
	switch {
	case sb.Fanout != nil && bl.Fanout != nil:
		put("max_sustained_rate", sb.Fanout.MaxSustained, bl.Fanout.MaxSustained)
		// Step by step at the rates both ran.
		for i := range min(len(sb.Fanout.Steps), len(bl.Fanout.Steps)) {
			a, b := sb.Fanout.Steps[i], bl.Fanout.Steps[i]
			put(fmt.Sprintf("p99@%.0f", a.Rate), a.P99ms, b.P99ms)
			put(fmt.Sprintf("deliveries_per_s@%.0f", a.Rate), a.DeliveriesPerSec, b.DeliveriesPerSec)
			put(fmt.Sprintf("server_us_per_delivery@%.0f", a.Rate), a.ServerUsPerDel, b.ServerUsPerDel)
		}
	case sb.Idle != nil && bl.Idle != nil:
		put("bytes_per_conn", sb.Idle.BytesPerConn, bl.Idle.BytesPerConn)
	case sb.Connect != nil && bl.Connect != nil:
		put("handshakes_per_s", sb.Connect.PerSec, bl.Connect.PerSec)
	}
	return r
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
