package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-rt/switchboard/plugins"
)

const pluginUsage = `usage: switchboard plugin run FILE.wasm [flags] < envelope.json

commands:
  run   run a plugin once on an envelope from stdin

Run 'switchboard plugin run -h' for its flags.
`

const pluginRunAbout = `Runs a plugin's message phase once, under the real host (the limits,
rewrites and checks of 'switchboard serve'), on the envelope read from
stdin, and prints the verdict, the output, the call's time, the counters
and the log lines. Any language: the plugin is a .wasm file (plugins/ABI.md).

Exit status: 0 when the plugin gave a verdict (whichever), 1 when it failed
to load or its call failed (trap, timeout, memory, exit, malformed result),
2 on a usage error or when stdin is not an envelope (a JSON object with a
"type" string).`

func pluginCmd(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, pluginUsage)
		return 2
	case args[0] == "run":
		return pluginRun(args[1:], stdout, stderr)
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help":
		fmt.Fprint(stdout, pluginUsage)
		return 0
	}
	fmt.Fprintf(stderr, "switchboard: plugin: unknown command %q\n\n%s", args[0], pluginUsage)
	return 2
}

type pluginOptions struct {
	config, route, user, claims, remote, conn string
	timeout                                   time.Duration
}

func pluginFlags(stderr io.Writer) (*flag.FlagSet, *pluginOptions) {
	fl := newFlagSet("plugin run", "FILE.wasm [flags] < envelope.json", pluginRunAbout, stderr)
	o := &pluginOptions{}
	fl.StringVar(&o.config, "config", "", "the plugin block's `config` as a JSON object (default {})")
	fl.StringVar(&o.route, "route", "", "the route's message `type` (default: the envelope's \"type\")")
	fl.StringVar(&o.user, "user", "user-1", "the sender's user `id`")
	fl.StringVar(&o.claims, "claims", "", "the sender's claims as a JSON `object` (default: none, a zero-length field)")
	fl.StringVar(&o.remote, "remote", "127.0.0.1:40000", "the sender's `address`: ip:port, [ipv6]:port, or an ip")
	fl.StringVar(&o.conn, "conn", "conn-1", "the connection `id`")
	fl.DurationVar(&o.timeout, "timeout", plugins.DefaultTimeout, "the call's `timeout` (guest time), as the plugin block's timeout")
	return fl, o
}

func pluginRun(args []string, stdout, stderr io.Writer) int {
	fl, opts := pluginFlags(stderr)
	// Flags may come before or after FILE.wasm.
	var files []string
	for {
		if code, done := flagResult(fl, parseQuiet(fl, args), stdout, stderr); done {
			return code
		}
		if fl.NArg() == 0 {
			break
		}
		files = append(files, fl.Arg(0))
		args = fl.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "switchboard: plugin run: want one FILE.wasm, got %d arguments\n", len(files))
		fl.Usage()
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "switchboard: plugin run: "+format+"\n", a...)
		fl.Usage()
		return 2
	}
	// A missing FILE is a command-line mistake (a stray word): said before
	// stdin is read, with the usage.
	if _, err := os.Stat(files[0]); errors.Is(err, fs.ErrNotExist) {
		return usageErr("%s: no such file", files[0])
	}
	// stdin's content is data, not the command line: its errors come
	// without the usage.
	dataErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "switchboard: plugin run: "+format+"\n", a...)
		return 2
	}
	o := *opts
	var cfg map[string]any
	if o.config != "" {
		if err := json.Unmarshal([]byte(o.config), &cfg); err != nil || cfg == nil {
			return usageErr("--config is not a JSON object: %s", o.config)
		}
	}
	var claims []byte
	if o.claims != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(o.claims), &m); err != nil || m == nil {
			return usageErr("--claims is not a JSON object: %s", o.claims)
		}
		claims = []byte(o.claims)
	}
	if o.timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	env, err := io.ReadAll(os.Stdin)
	if err != nil {
		return dataErr("reading the envelope from stdin: %v", err)
	}
	// A file or an echo ends with a newline a WebSocket frame would not.
	env = bytes.TrimRight(env, " \t\r\n")
	var head struct {
		Type any `json:"type"`
	}
	if len(env) == 0 || env[0] != '{' || json.Unmarshal(env, &head) != nil {
		return dataErr("stdin is not a JSON object: give the envelope a client would send, e.g. {\"type\":\"send_message\",\"text\":\"hi\"}")
	}
	typ, _ := head.Type.(string)
	if typ == "" {
		return dataErr(`the envelope has no "type" string: every message needs one`)
	}
	if o.route == "" {
		o.route = typ
	}

	logs := &recorder{}
	host := plugins.NewHost(plugins.HostOptions{Logger: slog.New(logs)})
	defer host.Close(context.Background())
	file := files[0]
	name := strings.TrimSuffix(filepath.Base(file), ".wasm")
	p, err := host.Load(context.Background(), &plugins.Spec{
		Name: name, Source: file, Config: cfg, Pool: 1,
		Timeout: o.timeout, Memory: plugins.DefaultMemory, OnError: "reject",
	})
	if err != nil {
		var le *plugins.LoadError
		if errors.As(err, &le) {
			err = le.Err
		}
		fmt.Fprintf(stderr, "switchboard: plugin run: %s does not load: %v\n", file, err)
		logs.print(stderr, "load")
		return 1
	}
	if !p.HandlesMessage() {
		fmt.Fprintf(stderr, "switchboard: plugin run: %s has no message phase (switchboard_on_message); it handles connects only\n", file)
		return 1
	}
	// What loading logged (init's lines, the host's warnings) is not the
	// message's: it is printed first, marked "load".
	loadLogs := logs.take()
	in := &plugins.MessageInput{
		Envelope: env, Route: o.route, UserID: o.user, ConnID: o.conn,
		RemoteAddr: o.remote, Claims: claims,
	}
	start := time.Now()
	v := p.HandleMessage(context.Background(), in)
	elapsed := time.Since(start)

	loadLogs.print(stdout, "load")
	st := p.Stats()
	if st.Failures.Total() > 0 {
		f := logs.failure()
		fmt.Fprintf(stdout, "failure  %s\n", f)
		fmt.Fprintf(stdout, "time     %s\n", elapsed)
		logs.print(stdout, "log")
		return 1
	}
	fmt.Fprintf(stdout, "verdict  %s\n", v.Action)
	switch v.Action {
	case plugins.Reject:
		fmt.Fprintf(stdout, "code     %s\nreason   %s\n", v.Code, v.Reason)
	case plugins.Transform:
		fmt.Fprintf(stdout, "output   %s\n", v.Payload)
	case plugins.Reroute:
		fmt.Fprintf(stdout, "output   %s\n", v.Target)
	}
	fmt.Fprintf(stdout, "time     %s\n", elapsed)
	keys := make([]string, 0, len(st.Counters))
	for k := range st.Counters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "counter  %s %+d\n", k, st.Counters[k])
	}
	logs.print(stdout, "log")
	return 0
}

// recorder is a slog.Handler keeping the host's log records of one run:
// the plugin's own lines (log import, stdout and stderr) and the host's
// report of a failed call.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}

// take returns the records so far in a recorder of their own and forgets
// them.
func (r *recorder) take() *recorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &recorder{recs: r.recs}
	r.recs = nil
	return t
}

// failure is the kind and error of the host's "plugin failed" record.
func (r *recorder) failure() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message != "plugin failed" {
			continue
		}
		var kind, msg string
		rec.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "kind":
				kind = a.Value.String()
			case "error":
				msg = a.Value.String()
			}
			return true
		})
		return kind + ": " + msg
	}
	return "unknown"
}

// print writes the records other than the failure as "TAG  LEVEL msg
// key=value...", without the attributes every line of a run shares.
func (r *recorder) print(w io.Writer, tag string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message == "plugin failed" {
			continue
		}
		line := fmt.Sprintf("%-8s %s %s", tag, rec.Level, rec.Message)
		rec.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "plugin", "route", "conn":
			default:
				line += fmt.Sprintf(" %s=%q", a.Key, a.Value.String())
			}
			return true
		})
		fmt.Fprintln(w, line)
	}
}
