package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/router/config"
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
	if diags := loadPlugins(cfg); diags.HasErrors() {
		src, _ := os.ReadFile(cfg.Filename)
		if src == nil {
			src = defaultConfig
		}
		files := map[string]*hcl.File{cfg.Filename: {Bytes: src}}
		_ = config.WriteDiagnostics(stderr, &config.Diagnostics{Diags: diags, Files: files})
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK (%s, %s, %s)\n", name, count(len(cfg.Routes), "route"), count(len(cfg.Plugins), "plugin"), count(len(cfg.Tests), "test"))
	return 0
}

// loadPlugins compiles every WASM plugin of the config as serve would,
// and reports each that fails at its plugin block: a missing file, not
// WebAssembly, a missing export, a wrong ABI version or a config the
// plugin refused.
func loadPlugins(cfg *config.Config) hcl.Diagnostics {
	host := plugins.NewHost(plugins.HostOptions{})
	defer host.Close(context.Background())
	var diags hcl.Diagnostics
	for _, pc := range cfg.Plugins {
		if pc.Native {
			continue
		}
		if _, err := host.Load(context.Background(), pc); err != nil {
			var le *plugins.LoadError
			if errors.As(err, &le) {
				err = le.Err
			}
			rng := pc.Range
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Plugin does not load",
				Detail:   fmt.Sprintf("plugin %q (%s): %v", pc.Name, pc.Source, err),
				Subject:  &rng,
			})
		}
	}
	return diags
}

// count is "1 route", "2 routes".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
