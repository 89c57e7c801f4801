package main

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// commandPaths returns every command the binary's help lists, as the
// words after "switchboard": the top level's "commands:" section and,
// recursively, that of any command whose -h has one (bench fanout ...).
// A command's -h is how the tests learn it, so a new command is covered
// by listing it in the usage.
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	top, errOut, code := switchboard(t, ".", nil, "-h")
	if code != 0 {
		t.Fatalf("switchboard -h: exit %d %s", code, errOut)
	}
	var paths [][]string
	var walk func(prefix []string, help string)
	walk = func(prefix []string, help string) {
		for _, name := range subcommands(help) {
			path := append(slices.Clip(prefix), name)
			paths = append(paths, path)
			out, errOut, code := switchboard(t, ".", nil, append(path, "-h")...)
			if code != 0 {
				t.Fatalf("switchboard %s -h: exit %d, stderr:\n%s", strings.Join(path, " "), code, errOut)
			}
			walk(path, out)
		}
	}
	walk(nil, top)
	if len(paths) < 6 {
		t.Fatalf("only %d commands found in the help: %q", len(paths), paths)
	}
	return paths
}

var (
	commandLine = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\s`)
	flagLine    = regexp.MustCompile(`^  -([a-zA-Z][\w-]*)`)
)

// subcommands reads the "commands:" section of a help text.
func subcommands(help string) []string {
	var names []string
	in := false
	for line := range strings.Lines(help) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "commands:":
			in = true
		case line == "":
			in = false
		case in:
			if m := commandLine.FindStringSubmatch(line); m != nil {
				names = append(names, m[1])
			}
		}
	}
	return names
}

// helpFlags reads the flags flag.PrintDefaults lists, without dashes.
func helpFlags(help string) []string {
	var names []string
	for line := range strings.Lines(help) {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

func isParent(paths [][]string, p []string) bool {
	for _, q := range paths {
		if len(q) > len(p) && slices.Equal(q[:len(p)], p) {
			return true
		}
	}
	return false
}

// TestHelp: -h and --help of every command print its usage to stdout and
// exit 0, as do `switchboard help` and `help <command>`.
func TestHelp(t *testing.T) {
	paths := commandPaths(t)
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		out, errOut, code := switchboard(t, ".", nil, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: switchboard ") {
			t.Errorf("switchboard %s: exit %d, stdout %q, stderr %q", args[0], code, out, errOut)
		}
	}
	for _, p := range paths {
		name := strings.Join(p, " ")
		for _, h := range []string{"-h", "--help"} {
			out, errOut, code := switchboard(t, ".", nil, append(slices.Clip(p), h)...)
			if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: switchboard "+name) {
				t.Errorf("switchboard %s %s: exit %d, stderr %q, stdout:\n%s", name, h, code, errOut, out)
			}
		}
	}
	for _, p := range paths {
		out, _, code := switchboard(t, ".", nil, append([]string{"help"}, p...)...)
		if name := strings.Join(p, " "); code != 0 || !strings.HasPrefix(out, "usage: switchboard "+name) {
			t.Errorf("help %s: exit %d\n%s", name, code, out)
		}
	}
}

// TestBadCommandLine: an unknown command (at the top level or under one
// with commands), an unknown flag or a stray argument exits 2 with the
// error, prefixed "switchboard: ", and the usage on stderr; stdout stays
// empty.
func TestBadCommandLine(t *testing.T) {
	paths := commandPaths(t)
	cases := [][]string{{}, {"nope"}}
	for _, p := range paths {
		if isParent(paths, p) {
			cases = append(cases, append(slices.Clip(p), "nope"), p)
		} else {
			cases = append(cases, append(slices.Clip(p), "--no-such-flag"), append(slices.Clip(p), "stray"))
		}
	}
	for _, args := range cases {
		out, errOut, code := switchboard(t, ".", nil, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "usage: switchboard") {
			t.Errorf("switchboard %s: exit %d, stdout %q, stderr:\n%s", strings.Join(args, " "), code, out, errOut)
		}
		if len(args) > 0 && !strings.HasPrefix(errOut, "switchboard: ") && !strings.HasPrefix(errOut, "usage: ") {
			t.Errorf("switchboard %s: error not prefixed with \"switchboard: \":\n%s", strings.Join(args, " "), errOut)
		}
	}
}

// TestErrorPrefix: failures after the command line also start with
// "switchboard: ".
func TestErrorPrefix(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"validate", "-c", "missing.hcl"}},
		{nil, []string{"test", "-c", "missing.hcl"}},
		{nil, []string{"serve", "-c", "missing.hcl"}},
		{[]string{"SWITCHBOARD_JWT_SECRET="}, []string{"token", "--sub", "alice"}},
	} {
		_, errOut, code := switchboard(t, t.TempDir(), tc.env, tc.args...)
		if code != 1 || !strings.HasPrefix(errOut, "switchboard: ") {
			t.Errorf("switchboard %s: exit %d, stderr:\n%s", strings.Join(tc.args, " "), code, errOut)
		}
	}
}

// TestBenchHelpOwnFlags: each bench command's -h lists the shared flags
// and its own, not the other scenarios'.
func TestBenchHelpOwnFlags(t *testing.T) {
	own := map[string][]string{
		"fanout":  {"subscribers", "rate", "step", "steps", "duration", "publisher-rate", "room", "max-p99"},
		"idle":    {"conns", "room-size", "settle"},
		"connect": {"concurrency", "for", "max"},
	}
	for scenario := range own {
		out, _, _ := switchboard(t, ".", nil, "bench", scenario, "-h")
		flags := helpFlags(out)
		for other, names := range own {
			for _, n := range names {
				if has := slices.Contains(flags, n); has != (other == scenario) {
					t.Errorf("bench %s -h lists -%s: %v", scenario, n, has)
				}
			}
		}
		for _, shared := range []string{"url", "secret", "baseline", "json", "c"} {
			if !slices.Contains(flags, shared) {
				t.Errorf("bench %s -h lacks -%s", scenario, shared)
			}
		}
	}
}

// TestVersion: `switchboard version` prints the build info `go version -m`
// reads from the same binary.
func TestVersion(t *testing.T) {
	out, errOut, code := switchboard(t, ".", nil, "version")
	if code != 0 || errOut != "" {
		t.Fatalf("version: exit %d %s", code, errOut)
	}
	m, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatal(err)
	}
	info := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(m)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "mod":
			info["version"] = f[2]
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs."):
			k, v, _ := strings.Cut(f[1], "=")
			info[k] = v
		}
	}
	rev := info["vcs.revision"]
	if rev == "" {
		rev = "unknown" // -buildvcs=false, or a git worktree
	} else if info["vcs.modified"] == "true" {
		rev += "+dirty"
	}
	for _, want := range []string{"switchboard " + info["version"] + "\n", "revision " + rev, runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s\n(go version -m:\n%s)", want, out, m)
		}
	}
}

// TestVersionText covers the VCS fields a checkout build has, which this
// test binary may lack (go build stamps none in a git worktree).
func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-29T12:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	want := "switchboard v1.2.3\nrevision 0123abcd+dirty (2026-11-29T12:00:00Z)\ngo1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got := versionText(bi); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	bi.Settings[2].Value = "false"
	if got := versionText(bi); !strings.Contains(got, "revision 0123abcd (") {
		t.Errorf("clean tree:\n%s", got)
	}
	if got := versionText(nil); !strings.Contains(got, "revision unknown\n"+runtime.Version()) {
		t.Errorf("no build info:\n%s", got)
	}
}

// TestREADMECommands compares README.md's Commands block with the flags
// each command defines (its -h), both ways, so neither can drift. In the
// block, an entry starts with "switchboard <command> [<command>]"; indented
// lines continue it; a flag is a word starting with - or [-. The flags of
// `switchboard bench` apply to each bench command.
func TestREADMECommands(t *testing.T) {
	paths := commandPaths(t)
	known := map[string]bool{}
	for _, p := range paths {
		known[strings.Join(p, " ")] = true
	}
	src, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		line  int
		flags []string
	}
	entries := map[string]*entry{}
	var cur *entry
	flagWord := regexp.MustCompile(`(?:^|[\s\[])--?([a-zA-Z][\w-]*)`)
	section, fence := false, false
	for i, line := range strings.Split(string(src), "\n") {
		n := i + 1
		switch {
		case strings.HasPrefix(line, "## "):
			section = line == "## Commands"
			continue
		case !section:
			continue
		case strings.HasPrefix(line, "```"):
			if fence {
				section = false // only the first block
			}
			fence = !fence
			continue
		case !fence || strings.TrimSpace(line) == "":
			continue
		}
		rest := line
		if words := strings.Fields(line); words[0] == "switchboard" {
			path := ""
			for _, w := range words[1:] {
				next := strings.TrimSpace(path + " " + w)
				if !known[next] {
					break
				}
				path = next
			}
			if path == "" {
				t.Errorf("README.md:%d: %q names no command of the binary (switchboard -h)", n, line)
				cur = nil
				continue
			}
			if entries[path] != nil {
				t.Errorf("README.md:%d: switchboard %s is listed twice", n, path)
			}
			cur = &entry{line: n}
			entries[path] = cur
			rest = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, "switchboard")), path)
		} else if line[0] != ' ' || cur == nil {
			t.Errorf("README.md:%d: neither a command nor an indented continuation: %q", n, line)
			continue
		}
		for _, m := range flagWord.FindAllStringSubmatch(rest, -1) {
			cur.flags = append(cur.flags, m[1])
		}
	}
	if len(entries) == 0 {
		t.Fatal("README.md has no ## Commands section with a code block")
	}
	for _, p := range paths {
		name := strings.Join(p, " ")
		e := entries[name]
		if e == nil {
			t.Errorf("README.md Commands lacks switchboard %s", name)
			continue
		}
		if isParent(paths, p) {
			continue // its flags are checked with each of its commands
		}
		var listed []string
		for i := 1; i <= len(p); i++ {
			if a := entries[strings.Join(p[:i], " ")]; a != nil {
				listed = append(listed, a.flags...)
			}
		}
		help, _, _ := switchboard(t, ".", nil, append(slices.Clip(p), "-h")...)
		defined := helpFlags(help)
		for _, f := range defined {
			if !slices.Contains(listed, f) {
				t.Errorf("README.md:%d: switchboard %s lacks -%s, which the command defines", e.line, name, f)
			}
		}
		for _, f := range listed {
			if !slices.Contains(defined, f) {
				t.Errorf("README.md:%d: switchboard %s lists -%s, which `switchboard %s -h` does not define", e.line, name, f, name)
			}
		}
	}
}

// TestTopUsageNamesSubcommands: where the top-level usage names the
// commands under one (bench: fanout, idle, ...), it names all of them.
func TestTopUsageNamesSubcommands(t *testing.T) {
	top, _, _ := switchboard(t, ".", nil, "-h")
	for _, p := range commandPaths(t) {
		if len(p) != 2 {
			continue
		}
		line := ""
		for l := range strings.Lines(top) {
			if m := commandLine.FindStringSubmatch(l); m != nil && m[1] == p[0] {
				line = l
			}
		}
		if !regexp.MustCompile(`\b` + p[1] + `\b`).MatchString(line) {
			t.Errorf("switchboard -h: the line of %s does not name %s: %q", p[0], p[1], line)
		}
	}
}
