package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/switchboard-rt/switchboard/router/config"
)

// defaultConfig is a copy of the repository's router.hcl (kept identical by
// a test), so `switchboard serve` works from any directory.
//
//go:generate cp ../../router.hcl default.hcl
//go:embed default.hcl
var defaultConfig []byte

const defaultPath = "router.hcl"

// readConfig reads path, or ./router.hcl, or the built-in default, and
// returns the source with the name diagnostics use for it.
func readConfig(path string) (src []byte, name string, err error) {
	if path != "" {
		src, err = os.ReadFile(path)
		return src, path, err
	}
	src, err = os.ReadFile(defaultPath)
	if errors.Is(err, fs.ErrNotExist) {
		return defaultConfig, "router.hcl (built in)", nil
	}
	return src, defaultPath, err
}

// loadConfig loads path, or ./router.hcl, or the built-in default. It
// prints diagnostics to stderr and returns nil when the config is invalid.
func loadConfig(path string, stderr io.Writer) (*config.Config, string) {
	src, name, err := readConfig(path)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return nil, name
	}
	cfg, err := config.Parse(src, name)
	if err != nil {
		_ = config.WriteDiagnostics(stderr, err)
		return nil, name
	}
	return cfg, name
}
