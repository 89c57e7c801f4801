package main

import (
	"flag"
	"fmt"
	"io"
)

func validate(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("validate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	path := fl.String("c", "", "config `file` (default ./router.hcl, else the built-in config)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	cfg, name := loadConfig(*path, stderr)
	if cfg == nil {
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK (%d routes, %d plugins, %d tests)\n", name, len(cfg.Routes), len(cfg.Plugins), len(cfg.Tests))
	return 0
}
