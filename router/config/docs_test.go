package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestDocsHCL checks every ```hcl block of the repository's Markdown
// (README.md, docs/*.md, the examples' READMEs ...), so that what a reader
// copies works. The rule:
//
//   - Every block parses (hclsyntax).
//   - A block of root blocks (server, auth, limits, metrics, plugin, route,
//     test) is decoded and checked by Parse as a whole config, with every
//     check of `switchboard validate` but loading the plugins (their .wasm
//     files are not built here). A plugin it references without declaring
//     is declared for it as native: a route or auth fragment may use plugins
//     shown elsewhere.
//   - A block of blocks that belong inside another (field, schema, deliver,
//     jwt, heartbeat, tls, expect) is wrapped in a minimal parent and
//     checked the same way.
//   - A block that elides with a "# ..." line is an excerpt and may lack
//     what it elides: its "Missing ..." diagnostics are accepted.
//   - A block with top-level attributes, or a mix of the above, is only
//     parsed: where its lines belong is for the prose around it to say.
//
// Failures name the Markdown file and line.
func TestDocsHCL(t *testing.T) {
	root := filepath.Join("..", "..")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(root, path)
		for _, b := range hclBlocks(string(src)) {
			blocks++
			for _, problem := range checkDocBlock(name, b) {
				t.Error(problem)
			}
		}
	}
	if blocks < 10 {
		t.Fatalf("found only %d hcl blocks in %d Markdown files", blocks, len(files))
	}
}

// docBlock is the text of one ```hcl block; line is the line of its
// first line in the Markdown file.
type docBlock struct {
	text string
	line int
}

// hclBlocks returns the ```hcl fenced blocks of a Markdown text.
func hclBlocks(md string) []docBlock {
	var blocks []docBlock
	var cur *docBlock
	for i, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```hcl"):
			cur = &docBlock{line: i + 2}
		case cur != nil && strings.HasPrefix(trimmed, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return blocks
}

var (
	rootBlocks = []string{"server", "auth", "limits", "metrics", "plugin", "route", "test"}
	// wrappers put a block that belongs inside another into a minimal
	// parent: the text before it (counted in lines) and after it.
	wrappers = map[string][2]string{
		"field":     {"route \"fragment\" {\n  schema {\n", "  }\n  deliver {\n    to = \"none\"\n  }\n}\n"},
		"schema":    {"route \"fragment\" {\n", "  deliver {\n    to = \"none\"\n  }\n}\n"},
		"deliver":   {"route \"fragment\" {\n", "}\n"},
		"jwt":       {"auth {\n", "}\n"},
		"heartbeat": {"server {\n", "}\n"},
		"tls":       {"server {\n", "}\n"},
		"expect":    {"test \"fragment\" {\n  send = { type = \"fragment\" }\n", "}\n"},
	}
	pluginRef   = regexp.MustCompile(`plugin\.([A-Za-z][\w-]*)`)
	elisionLine = regexp.MustCompile(`(?m)^\s*(#|//) *(\.\.\.|…)\s*$`)
)

// checkDocBlock applies TestDocsHCL's rule to one block and returns its
// problems as "file:line: summary; detail".
func checkDocBlock(name string, b docBlock) []string {
	at := func(line int, summary, detail string) string {
		return fmt.Sprintf("%s:%d: %s; %s", name, line, summary, detail)
	}
	file, diags := hclsyntax.ParseConfig([]byte(b.text), name, hcl.Pos{Line: b.line, Column: 1, Byte: 0})
	if diags.HasErrors() {
		var out []string
		for _, d := range diags {
			line := b.line
			if d.Subject != nil {
				line = d.Subject.Start.Line
			}
			out = append(out, at(line, d.Summary, d.Detail+" (in a ```hcl block: every block must be valid HCL, one argument per line)"))
		}
		return out
	}
	body := file.Body.(*hclsyntax.Body)
	var types []string
	for _, blk := range body.Blocks {
		if !slices.Contains(types, blk.Type) {
			types = append(types, blk.Type)
		}
	}
	prefix, suffix := "", ""
	switch {
	case len(body.Attributes) > 0 || len(types) == 0:
		return nil // attributes alone: parsed only
	case !slices.ContainsFunc(types, func(s string) bool { return !slices.Contains(rootBlocks, s) }):
	case len(types) == 1 && wrappers[types[0]] != [2]string{}:
		prefix, suffix = wrappers[types[0]][0], wrappers[types[0]][1]
	default:
		return nil // a mix: parsed only
	}
	// Declare the plugins it uses but does not declare.
	var declared []string
	for _, blk := range body.Blocks {
		if blk.Type == "plugin" && len(blk.Labels) == 1 {
			declared = append(declared, blk.Labels[0])
		}
	}
	for _, m := range pluginRef.FindAllStringSubmatch(b.text, -1) {
		if !slices.Contains(declared, m[1]) {
			declared = append(declared, m[1])
			suffix += fmt.Sprintf("plugin %q {\n  native = true\n}\n", m[1])
		}
	}
	src := prefix + b.text + suffix
	_, err := Parse([]byte(src), name)
	var d *Diagnostics
	if err == nil {
		return nil
	} else if !errors.As(err, &d) {
		return []string{at(b.line, "Error", err.Error())}
	}
	excerpt := elisionLine.MatchString(b.text)
	skip := strings.Count(prefix, "\n")
	last := b.line + strings.Count(b.text, "\n") - 1
	var out []string
	for _, diag := range d.Diags {
		if excerpt && strings.HasPrefix(diag.Summary, "Missing ") {
			continue
		}
		line := b.line
		if diag.Subject != nil {
			line = b.line + diag.Subject.Start.Line - 1 - skip
		}
		line = min(max(line, b.line), last) // in the wrapper: the block
		out = append(out, at(line, diag.Summary, diag.Detail))
	}
	return out
}

// TestDocBlockRule checks TestDocsHCL's rule on blocks made up here: what
// passes, what fails, and the Markdown line a failure names.
func TestDocBlockRule(t *testing.T) {
	md := "# Doc\n\n```hcl\n" + `route "r" {
  plugins = [plugin.shown_elsewhere]
  deliver {
    to = "mars"
  }
}
` + "```\n\n```hcl\nfield \"x\" { type = \"string\"  required = true }\n```\n\n```hcl\n" + `route "excerpt" {
  plugins = [plugin.p]
  # ...
}
` + "```\n\n```hcl\n" + `route "not_an_excerpt" {
  plugins = [plugin.p]
}
` + "```\n\n```hcl\n" + `field "roomId" {
  type = "strin"
}
` + "```\n\n```hcl\nallowed_origins = [\"https://a.example\"]\n```\n\n```js\nnot = hcl {\n```\n"
	var got []string
	for _, b := range hclBlocks(md) {
		for _, p := range checkDocBlock("doc.md", b) {
			summary, _, _ := strings.Cut(p, ";")
			got = append(got, summary)
		}
	}
	want := []string{
		"doc.md:7: Invalid delivery target",
		"doc.md:13: Invalid single-argument block definition",
		"doc.md:24: Missing deliver block",
		"doc.md:31: Invalid field type",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
