package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/switchboard-rt/switchboard/router"
	"github.com/switchboard-rt/switchboard/router/config"
)

// test runs the config's `test` blocks against its real routes and
// plugins, offline, and reports like `go test`.
func test(args []string, stdout, stderr io.Writer) int {
	fl := newFlagSet("test", "[-c FILE] [-v] [-run TEXT]", "Run the config's test blocks against its routes and plugins, offline, and\nreport like go test. Exit status 1 when a test fails.", stderr)
	path := fl.String("c", "", "config `file` (default ./router.hcl, else the built-in config)")
	verbose := fl.Bool("v", false, "print every test, not only failures")
	only := fl.String("run", "", "run only tests whose name contains this `text`")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	cfg, name := loadConfig(*path, stderr)
	if cfg == nil {
		return 1
	}
	if cfg.Auth.JWT != nil && cfg.Auth.JWT.Secret == "" {
		cfg.Auth.JWT.Secret = "offline" // tests never see a token
	}
	start := time.Now()
	rt, err := router.New(cfg, router.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return 1
	}
	defer rt.Close(context.Background())

	failed, ran := 0, 0
	for _, tc := range cfg.Tests {
		if *only != "" && !strings.Contains(tc.Name, *only) {
			continue
		}
		ran++
		t0 := time.Now()
		problems := runTest(rt, tc)
		d := time.Since(t0).Seconds()
		if *verbose {
			fmt.Fprintf(stdout, "=== RUN   %s\n", tc.Name)
		}
		if len(problems) > 0 {
			failed++
			fmt.Fprintf(stdout, "--- FAIL: %s (%.3fs)\n", tc.Name, d)
			for _, p := range problems {
				fmt.Fprintf(stdout, "    %s:%d: %s\n", tc.Range.Filename, tc.Range.Start.Line, p)
			}
		} else if *verbose {
			fmt.Fprintf(stdout, "--- PASS: %s (%.3fs)\n", tc.Name, d)
		}
	}
	elapsed := time.Since(start).Seconds()
	if failed > 0 {
		fmt.Fprintf(stdout, "FAIL\nFAIL\t%s\t%.3fs\n%d passed, %d failed\n", name, elapsed, ran-failed, failed)
		return 1
	}
	if ran == 0 {
		fmt.Fprintf(stdout, "ok  \t%s\t%.3fs [no tests to run]\n", name, elapsed)
		return 0
	}
	fmt.Fprintf(stdout, "PASS\nok  \t%s\t%.3fs\n%d passed, 0 failed\n", name, elapsed, ran)
	return 0
}

// runTest evaluates one test block and returns what did not match.
func runTest(rt *router.Router, tc *config.Test) []string {
	// The bytes a client would send, so the live decoder decides (NFC,
	// exact numbers, duplicate names): not a re-encoding of tc.Send.
	msg := tc.SendJSON
	if msg == nil {
		var err error
		if msg, err = json.Marshal(tc.Send); err != nil {
			return []string{"send cannot be encoded as JSON: " + err.Error()}
		}
	}
	user := tc.User
	if user == "" {
		user = "test-user"
	}
	res := rt.Evaluate(context.Background(), user, tc.Claims, msg)
	e := tc.Expect
	var problems []string
	mismatch := func(what, got, want string) {
		problems = append(problems, fmt.Sprintf("%s = %q, want %q", what, got, want))
	}
	if res.Verdict != e.Verdict {
		got := res.Verdict
		if res.Error != nil {
			got += " (" + res.Error.Code + ": " + res.Error.Message + ")"
		}
		mismatch("verdict", got, e.Verdict)
		return problems
	}
	if e.Code != "" && (res.Error == nil || res.Error.Code != e.Code) {
		got := ""
		if res.Error != nil {
			got = res.Error.Code
		}
		mismatch("code", got, e.Code)
	}
	if e.To != "" && res.To != e.To {
		mismatch("to", res.To, e.To)
	}
	if e.Room != "" && res.Room != e.Room {
		mismatch("room", res.Room, e.Room)
	}
	if e.User != "" && res.User != e.User {
		mismatch("user", res.User, e.User)
	}
	if len(e.Fields) > 0 {
		var got map[string]any
		if err := json.Unmarshal(res.Payload, &got); err != nil {
			return append(problems, "delivered payload is not JSON: "+err.Error())
		}
		for k, want := range e.Fields {
			if g, ok := got[k]; !ok {
				problems = append(problems, fmt.Sprintf("field %q missing from %s", k, res.Payload))
			} else if !sameJSON(g, want) {
				problems = append(problems, fmt.Sprintf("field %q = %s, want %s", k, jsonText(g), jsonText(want)))
			}
		}
	}
	return problems
}

// sameJSON compares values after a JSON round trip, so HCL numbers and
// JSON numbers compare equal.
func sameJSON(a, b any) bool {
	var x, y any
	_ = json.Unmarshal([]byte(jsonText(a)), &x)
	_ = json.Unmarshal([]byte(jsonText(b)), &y)
	return reflect.DeepEqual(x, y)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
