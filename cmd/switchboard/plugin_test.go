package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-rt/switchboard/internal/wasmbuild"
)

// runPlugin runs `switchboard plugin run` with stdin.
func runPlugin(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"plugin", "run"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// timeLine is the one line that changes from run to run.
var timeLine = regexp.MustCompile(`(?m)^time     [0-9.]+(ns|µs|ms|s)\n`)

func withoutTime(t *testing.T, out string) string {
	t.Helper()
	if !timeLine.MatchString(out) {
		t.Errorf("no time line in:\n%s", out)
	}
	return timeLine.ReplaceAllString(out, "")
}

// TestPluginRun runs the SDK docs' WAT example and the conformance guest
// under `switchboard plugin run`: verdicts, output, logs, counters, and
// every input field as the flags give it.
func TestPluginRun(t *testing.T) {
	shout := wasmbuild.Build(t, "../../sdk/testdata/shout.wat")
	conf := wasmbuild.Build(t, "../../plugins/testdata/conformance.wat")
	cases := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"reject", `{"type":"shout","text":"HI"}` + "\n", []string{shout},
			"verdict  reject\ncode     loud\nreason   please lower your voice\nlog      INFO checked a message\n"},
		{"allow, flags after the file", `{"type":"talk"}`, []string{shout, "--route", "talk"},
			"verdict  allow\nlog      INFO checked a message\n"},
		{"--route over the envelope's type", `{"type":"talk"}`, []string{"--route", "shout", shout},
			"verdict  reject\ncode     loud\nreason   please lower your voice\nlog      INFO checked a message\n"},
		{"transform", `{"type":"echo","text":"hi"}`, []string{conf},
			"verdict  transform\noutput   {\"type\":\"echo\",\"text\":\"hi\"}\n"},
		{"user", `{"type":"block"}`, []string{conf, "--user", "anon-q4ovkbcrw7ktbzgx"},
			"verdict  reject\ncode     blocked\nreason   anon-q4ovkbcrw7ktbzgx\n"},
		{"claims", `{"type":"claims"}`, []string{conf, "--claims", `{"roles":["admin"]}`},
			"verdict  transform\noutput   {\"roles\":[\"admin\"]}\n"},
		{"IPv6 remote", `{"type":"remote"}`, []string{conf, "--remote", "[2001:db8::1]:443"},
			"verdict  reject\ncode     remote\nreason   [2001:db8::1]:443\n"},
		{"config", `{"type":"config"}`, []string{conf, "--config", `{"n":1000000,"x":0.5}`},
			"verdict  transform\noutput   {\"n\":1000000,\"x\":0.5}\n"},
		{"reroute", `{"type":"move"}`, []string{conf},
			"verdict  reroute\noutput   room:lobby\n"},
		{"counters and logs", `{"type":"count"}`, []string{conf},
			"verdict  allow\ncounter  seen +2\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runPlugin(t, c.stdin, c.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if got := withoutTime(t, out); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestPluginRunFailures: a failed call or load exits 1 and says why; a
// usage error exits 2; -h prints to stdout and exits 0.
func TestPluginRunFailures(t *testing.T) {
	conf := wasmbuild.Build(t, "../../plugins/testdata/conformance.wat")
	out, _, code := runPlugin(t, `{"type":"trap"}`, conf)
	if code != 1 || !strings.HasPrefix(out, "failure  trap: ") {
		t.Errorf("trap: exit %d\n%s", code, out)
	}
	out, _, code = runPlugin(t, `{"type":"loop"}`, conf, "--timeout", "5ms")
	if code != 1 || !strings.HasPrefix(out, "failure  timeout: ran for longer than the 5ms timeout\n") {
		t.Errorf("loop: exit %d\n%s", code, out)
	}
	out, _, code = runPlugin(t, `{"type":"bad"}`, conf)
	if code != 1 || !strings.HasPrefix(out, "failure  malformed: ") {
		t.Errorf("bad: exit %d\n%s", code, out)
	}
	// A FILE that does not exist is a command-line error, said (with the
	// usage) before stdin is read, whatever stdin holds.
	for _, stdin := range []string{`{"type":"x"}`, "nope"} {
		_, errOut, code := runPlugin(t, stdin, "nope.wasm")
		if code != 2 || !strings.Contains(errOut, "nope.wasm: no such file") || !strings.Contains(errOut, "usage: switchboard plugin run") {
			t.Errorf("missing file, stdin %q: exit %d %s", stdin, code, errOut)
		}
	}

	for _, c := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no file", `{"type":"x"}`, nil, "want one FILE.wasm, got 0 arguments"},
		{"two files", `{"type":"x"}`, []string{conf, conf}, "want one FILE.wasm, got 2 arguments"},
		{"bad config", `{"type":"x"}`, []string{conf, "--config", "[1]"}, "--config is not a JSON object: [1]"},
		{"bad claims", `{"type":"x"}`, []string{conf, "--claims", "{"}, "--claims is not a JSON object: {"},
		{"stdin not JSON", "hello", []string{conf}, "stdin is not a JSON object"},
		{"no type", `{"text":"hi"}`, []string{conf}, `the envelope has no "type" string`},
		{"unknown flag", `{"type":"x"}`, []string{conf, "--nope"}, "flag provided but not defined: -nope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runPlugin(t, c.stdin, c.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, c.want)
			}
			// The usage is for command-line errors, not for stdin's content.
			if data := strings.HasPrefix(c.name, "stdin") || c.name == "no type"; data == strings.Contains(errOut, "usage:") {
				t.Errorf("a stdin error: %v, yet the usage printed: %v:\n%s", data, data, errOut)
			}
		})
	}

	for _, args := range [][]string{{"plugin", "-h"}, {"plugin", "--help"}} {
		out, errOut, code := switchboard(t, ".", nil, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: switchboard plugin") || !strings.Contains(out, "  run ") {
			t.Errorf("%v: exit %d, stderr %q, stdout\n%s", args, code, errOut, out)
		}
	}
	for _, args := range [][]string{{"plugin", "run", "-h"}, {"plugin", "run", conf, "--help"}} {
		out, errOut, code := switchboard(t, ".", nil, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: switchboard plugin run FILE.wasm") || !strings.Contains(out, "-claims object") {
			t.Errorf("%v: exit %d, stderr %q, stdout\n%s", args, code, errOut, out)
		}
	}
	if _, errOut, code := switchboard(t, ".", nil, "plugin", "walk"); code != 2 || !strings.Contains(errOut, `unknown command "walk"`) {
		t.Errorf("plugin walk: exit %d %s", code, errOut)
	}
}

// TestSDKReadmeShowsShoutWAT: the WAT example of sdk/README.md is
// sdk/testdata/shout.wat, which TestPluginRun runs.
func TestSDKReadmeShowsShoutWAT(t *testing.T) {
	readme, err := os.ReadFile("../../sdk/README.md")
	if err != nil {
		t.Fatal(err)
	}
	wat, err := os.ReadFile("../../sdk/testdata/shout.wat")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("```wat\n"+string(wat)+"```\n")) {
		t.Error("sdk/README.md does not show sdk/testdata/shout.wat as it is: copy it into the ```wat block")
	}
}
