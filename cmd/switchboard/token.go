package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/switchboard-rt/switchboard/router"
)

func token(args []string, stdout, stderr io.Writer) int {
	fl := newFlagSet("token", "--sub USER [--ttl 1h] [--claim k=v] [-c FILE]", "Print a JWT for a user, signed with the config's auth.jwt secret (set\nSWITCHBOARD_JWT_SECRET to the one the server uses).", stderr)
	path := fl.String("c", "", "config `file` whose auth.jwt secret signs the token")
	sub := fl.String("sub", "", "user id (the sub claim)")
	ttl := fl.Duration("ttl", time.Hour, "lifetime of the token")
	var claims claimFlags
	fl.Var(&claims, "claim", "extra claim `name=value` (repeatable)")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	if *sub == "" {
		code, _ := flagResult(fl, errors.New("--sub is required"), stdout, stderr)
		return code
	}
	if *ttl <= 0 {
		// A token that has already expired is refused by every server.
		code, _ := flagResult(fl, fmt.Errorf("--ttl must be positive (e.g. 1h, 30m), got %v", *ttl), stdout, stderr)
		return code
	}
	cfg, _ := loadConfig(*path, stderr)
	if cfg == nil {
		return 1
	}
	if cfg.Auth.JWT == nil || cfg.Auth.JWT.Secret == "" {
		fmt.Fprintln(stderr, "switchboard: no JWT secret configured; set SWITCHBOARD_JWT_SECRET (the one the server uses)")
		return 1
	}
	tok, err := router.IssueToken([]byte(cfg.Auth.JWT.Secret), *sub, *ttl, claims)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

type claimFlags map[string]any

func (c *claimFlags) String() string { return "" }

func (c *claimFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	if *c == nil {
		*c = claimFlags{}
	}
	(*c)[k] = v
	return nil
}
