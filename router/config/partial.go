package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// blockAttr is the rangeKey attribute of a whole block, body included.
const blockAttr = "{}"

// recordBlock records the range of a whole block, for partial.
func (d *decoder) recordBlock(obj any, b *hcl.Block) {
	rng := b.DefRange
	if body, ok := b.Body.(interface{ Range() hcl.Range }); ok {
		rng = hcl.RangeBetween(b.DefRange, body.Range())
	}
	d.ranges[rangeKey{obj, blockAttr}] = rng
}

// partial returns the config decoded despite errors for
// Diagnostics.Partial: without the plugin blocks that have an error
// inside them, since loading those would report the same mistake again.
func (d *decoder) partial(c *Config) *Config {
	if c == nil {
		return nil
	}
	var ok []*Plugin
	for _, p := range c.Plugins {
		if !d.hasErrorIn(d.ranges[rangeKey{p, blockAttr}]) {
			ok = append(ok, p)
		}
	}
	c.Plugins = ok
	return c
}

func (d *decoder) hasErrorIn(rng hcl.Range) bool {
	for _, diag := range d.diags {
		s := diag.Subject
		if diag.Severity == hcl.DiagError && s != nil && s.Filename == rng.Filename &&
			(rng.ContainsOffset(s.Start.Byte) || rng.Overlaps(*s)) {
			return true
		}
	}
	return false
}

// firstDeclared says where the first of two duplicates is declared, as
// " (first declared at router.hcl:12)"; "" for a Config built in Go.
func (c *Config) firstDeclared(obj any) string {
	rng, ok := c.ranges[rangeKey{obj, ""}]
	if !ok || rng.Filename == "" {
		return ""
	}
	return fmt.Sprintf(" (first declared at %s:%d)", rng.Filename, rng.Start.Line)
}

// test returns the first test with that name, or nil.
func (c *Config) test(name string) *Test {
	for _, t := range c.Tests {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// field returns the first field of the schema with that name, or nil.
func (r *Route) field(name string) *Field {
	for _, f := range r.Schema {
		if f.Name == name {
			return f
		}
	}
	return nil
}
