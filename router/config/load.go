package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Diagnostics is the error Load and Parse return: every problem found, not
// just the first, and the parsed files so they can be printed with their
// source lines. errors.As(err, &hcl.Diagnostics{}) works through Unwrap.
type Diagnostics struct {
	Diags hcl.Diagnostics
	Files map[string]*hcl.File
	// Partial is the config as far as it decoded despite the errors, with
	// defaults filled in and without the plugin blocks that have errors of
	// their own; nil when the file does not parse. It lets a tool add its
	// own checks to the same report (`switchboard validate` loads its
	// plugins); it is not fit to run.
	Partial *Config
}

// Error gives one line per diagnostic:
// "router.hcl:14,5-19: Unknown plugin; There is no plugin ...".
func (d *Diagnostics) Error() string {
	lines := make([]string, len(d.Diags))
	for i, diag := range d.Diags {
		lines[i] = diag.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the hcl.Diagnostics, for callers that handle those.
func (d *Diagnostics) Unwrap() error { return d.Diags }

// WriteDiagnostics prints err for a person, one problem after another:
//
//	router.hcl:14,15-26: Unknown plugin; There is no plugin "nope". ...
//	   14 |   plugins = [plugin.nope]
//	      |              ^^^^^^^^^^^
//
// A *Diagnostics (or hcl.Diagnostics) gets its source lines; any other
// error is printed as one line.
func WriteDiagnostics(w io.Writer, err error) error {
	if err == nil {
		return nil
	}
	var files map[string]*hcl.File
	var diags hcl.Diagnostics
	var d *Diagnostics
	switch {
	case errors.As(err, &d):
		files, diags = d.Files, d.Diags
	case errors.As(err, &diags):
	default:
		_, werr := fmt.Fprintf(w, "Error: %v\n", err)
		return werr
	}
	var b strings.Builder
	for _, diag := range diags {
		b.WriteString(diag.Error())
		b.WriteByte('\n')
		if diag.Subject != nil {
			if f := files[diag.Subject.Filename]; f != nil {
				writeSourceLine(&b, f.Bytes, *diag.Subject)
			}
		}
	}
	_, werr := io.WriteString(w, b.String())
	return werr
}

// writeSourceLine prints the line a range starts on with the range
// underlined (to the end of the line when it spans several).
func writeSourceLine(b *strings.Builder, src []byte, rng hcl.Range) {
	lines := strings.Split(string(src), "\n")
	if rng.Start.Line < 1 || rng.Start.Line > len(lines) {
		return
	}
	line := strings.TrimRight(lines[rng.Start.Line-1], "\r")
	num := fmt.Sprintf("%5d", rng.Start.Line)
	fmt.Fprintf(b, "%s | %s\n", num, line)
	startCol := max(rng.Start.Column, 1)
	endCol := rng.End.Column
	if rng.End.Line != rng.Start.Line || endCol > len(line)+1 {
		endCol = len(line) + 1
	}
	width := max(endCol-startCol, 1)
	// Keep tabs so the caret lines up under tab-indented source.
	pad := []byte(line[:min(startCol-1, len(line))])
	for i, c := range pad {
		if c != '\t' {
			pad[i] = ' '
		}
	}
	fmt.Fprintf(b, "%s | %s%s\n", strings.Repeat(" ", len(num)), pad, strings.Repeat("^", width))
}

// Load reads and decodes the config file at path. See Parse.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(src, path)
}

// Parse decodes an HCL config, fills in defaults and checks it. filename is
// used in diagnostics, and relative plugin sources and file() paths are
// resolved against its directory. The error, if any, is a *Diagnostics.
func Parse(src []byte, filename string) (*Config, error) {
	parser := hclparse.NewParser()
	file, diags := parser.ParseHCL(src, filename)
	d := &decoder{
		dir:    filepath.Dir(filename),
		ranges: map[rangeKey]hcl.Range{},
		failed: map[rangeKey]bool{},
	}
	d.src, d.filename = src, filename
	d.ctx = &hcl.EvalContext{Functions: d.functions()}
	d.diags = diags
	var c *Config
	if file != nil && file.Body != nil && !diags.HasErrors() {
		c = d.config(file.Body)
		c.Filename = filename
		c.Defaults()
		c.ranges = d.ranges
		c.check(d.report(filename))
		c.ranges = nil
	}
	if d.diags.HasErrors() {
		sortDiagnostics(d.diags)
		return nil, &Diagnostics{Diags: d.diags, Files: parser.Files(), Partial: d.partial(c)}
	}
	return c, nil
}

// functions are those available in expressions.
func (d *decoder) functions() map[string]function.Function {
	return map[string]function.Function{
		// env("NAME") is "" when NAME is unset, so a config can read optional
		// settings; a check that needs the value reports the empty string.
		"env": function.New(&function.Spec{
			Description: "The value of an environment variable, or \"\" when it is unset.",
			Params:      []function.Parameter{{Name: "name", Type: cty.String}},
			Type:        function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.StringVal(os.Getenv(args[0].AsString())), nil
			},
		}),
		// file("path") reads a file relative to the config, e.g. a PEM key.
		"file": function.New(&function.Spec{
			Description: "The contents of a file, relative to the config file's directory.",
			Params:      []function.Parameter{{Name: "path", Type: cty.String}},
			Type:        function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				p := args[0].AsString()
				if !filepath.IsAbs(p) {
					p = filepath.Join(d.dir, p)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return cty.NilVal, err
				}
				return cty.StringVal(string(b)), nil
			},
		}),
		// trimspace drops the newline that editors leave at the end of a
		// secret file: trimspace(file("jwt.secret")).
		"trimspace": stdlib.TrimSpaceFunc,
		// For test blocks that need long or built-up values.
		"join":   stdlib.JoinFunc,
		"range":  stdlib.RangeFunc,
		"format": stdlib.FormatFunc,
		"upper":  stdlib.UpperFunc,
		"lower":  stdlib.LowerFunc,
	}
}

// sortDiagnostics orders diagnostics by source position, so they read top
// to bottom whatever order the checks ran in.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}
