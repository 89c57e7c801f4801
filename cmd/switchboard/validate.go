package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/router"
	"github.com/switchboard-rt/switchboard/router/config"
)

func validate(args []string, stdout, stderr io.Writer) int {
	fl := newFlagSet("validate", "[-c FILE]", "Check a config and load its plugins as serve would; print every problem\nfound, config errors and plugin load failures together, with file:line:col.", stderr)
	path := fl.String("c", "", "config `file` (default ./router.hcl, else the built-in config)")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	src, name, err := readConfig(*path)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return 1
	}
	// Plugins are loaded even when the config has errors (from the part
	// that decoded), so one run reports every problem.
	cfg, err := config.Parse(src, name)
	partial := cfg
	var diags hcl.Diagnostics
	files := map[string]*hcl.File{name: {Bytes: src}}
	if err != nil {
		var d *config.Diagnostics
		if !errors.As(err, &d) {
			fmt.Fprintf(stderr, "switchboard: %v\n", err)
			return 1
		}
		diags, files, partial = d.Diags, d.Files, d.Partial
	}
	if partial != nil {
		diags = append(diags, loadPlugins(partial)...)
	}
	if diags.HasErrors() {
		sortBySource(diags)
		_ = config.WriteDiagnostics(stderr, &config.Diagnostics{Diags: diags, Files: files})
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK (%s, %s, %s)\n", name, count(len(cfg.Routes), "route"), count(len(cfg.Plugins), "plugin"), count(len(cfg.Tests), "test"))
	return 0
}

// loadPlugins compiles every WASM plugin of the config as serve would,
// and reports each that fails at its source attribute: a missing file, not
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
		if _, err := host.Load(context.Background(), router.PluginSpec(pc)); err != nil {
			var le *plugins.LoadError
			if errors.As(err, &le) {
				err = le.Err
			}
			rng := pc.SourceRange
			if rng.Filename == "" {
				rng = pc.Range
			}
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

// sortBySource orders diagnostics top to bottom, as config.Parse does,
// now that plugin load failures have joined the config's own.
func sortBySource(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		if a.Subject == nil || b.Subject == nil { // those without a range last
			return cmp.Compare(noRange(a), noRange(b))
		}
		return cmp.Or(cmp.Compare(a.Subject.Filename, b.Subject.Filename), cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte))
	})
}

func noRange(d *hcl.Diagnostic) int {
	if d.Subject == nil {
		return 1
	}
	return 0
}

// count is "1 route", "2 routes".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
