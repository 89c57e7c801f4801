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

// loadConfig loads path, or ./router.hcl, or the built-in default. It
// prints diagnostics to stderr and returns nil when the config is invalid.
func loadConfig(path string, stderr io.Writer) (*config.Config, string) {
	var (
		cfg *config.Config
		err error
		src []byte
	)
	switch {
	case path != "":
		src, err = os.ReadFile(path)
		if err == nil {
			cfg, err = config.Parse(src, path)
		}
	default:
		path = defaultPath
		src, err = os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			path, src = "router.hcl (built in)", defaultConfig
			err = nil
		}
		if err == nil {
			cfg, err = config.Parse(src, path)
		}
	}
	if err != nil {
		if src == nil {
			fmt.Fprintf(stderr, "switchboard: %v\n", err)
		} else {
			_ = config.WriteDiagnostics(stderr, err)
		}
		return nil, path
	}
	return cfg, path
}
