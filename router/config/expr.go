package config

import (
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

const exprHelp = `An expression here is msg.<field> (a top-level field of the incoming message), user.id, user.claims.<name>, a string, or a template joining them such as "team:${user.claims.team}".`

// String renders the expression in HCL syntax, e.g. msg.roomId or
// "team:${user.claims.team}".
func (e *Expr) String() string {
	if e == nil {
		return ""
	}
	if len(e.Parts) == 1 && e.Parts[0].From != FromLiteral {
		return e.Parts[0].ref()
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, p := range e.Parts {
		if p.From == FromLiteral {
			q := strconv.Quote(p.Literal)
			q = strings.ReplaceAll(q[1:len(q)-1], "${", "$${")
			b.WriteString(strings.ReplaceAll(q, "%{", "%%{"))
		} else {
			b.WriteString("${" + p.ref() + "}")
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (p ExprPart) ref() string {
	root := "msg"
	if p.From == FromUser {
		root = "user"
	}
	return root + "." + strings.Join(p.Path, ".")
}

// compileExpr turns an attribute's expression into an Expr. Parts without
// references (string literals, env("X")) are evaluated once, here.
func (d *decoder) compileExpr(attr *hcl.Attribute) (*Expr, bool) {
	parts, diags := d.exprParts(attr.Expr)
	if diags.HasErrors() {
		d.diags = append(d.diags, diags...)
		return nil, false
	}
	// Merge neighbouring literals so the router does one lookup per reference.
	var merged []ExprPart
	for _, p := range parts {
		if p.From == FromLiteral {
			if p.Literal == "" {
				continue
			}
			if n := len(merged); n > 0 && merged[n-1].From == FromLiteral {
				merged[n-1].Literal += p.Literal
				continue
			}
		}
		merged = append(merged, p)
	}
	return &Expr{Parts: merged, Range: attr.Expr.Range()}, true
}

func (d *decoder) exprParts(e hcl.Expression) ([]ExprPart, hcl.Diagnostics) {
	switch e := e.(type) {
	case *hclsyntax.TemplateWrapExpr:
		return d.exprParts(e.Wrapped)
	case *hclsyntax.TemplateExpr:
		var parts []ExprPart
		var diags hcl.Diagnostics
		for _, sub := range e.Parts {
			p, ds := d.exprParts(sub)
			parts = append(parts, p...)
			diags = append(diags, ds...)
		}
		return parts, diags
	case *hclsyntax.LiteralValueExpr:
		if raw, ok := d.rawLiteral(e); ok {
			return []ExprPart{{From: FromLiteral, Literal: raw}}, nil // as written, not NFC
		}
	case *hclsyntax.ScopeTraversalExpr:
		p, diag := traversalPart(e.Traversal)
		if diag != nil {
			return nil, hcl.Diagnostics{diag}
		}
		return []ExprPart{p}, nil
	}
	if len(e.Variables()) > 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unsupported expression",
			Detail:   "Only references, strings and string templates are compiled; operators, conditionals and functions of references are not. " + exprHelp,
			Subject:  e.Range().Ptr(),
		}}
	}
	v, diags := e.Value(d.ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid expression value",
			Detail:   "The value must be a string. " + exprHelp,
			Subject:  e.Range().Ptr(),
		}}
	}
	s, _ = s.Unmark()
	return []ExprPart{{From: FromLiteral, Literal: s.AsString()}}, nil
}

// traversalPart compiles msg.<field>, user.id or user.claims.<name>.
func traversalPart(t hcl.Traversal) (ExprPart, *hcl.Diagnostic) {
	names, ok := traversalNames(t)
	bad := func(summary, detail string) (ExprPart, *hcl.Diagnostic) {
		return ExprPart{}, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail:   detail,
			Subject:  t.SourceRange().Ptr(),
		}
	}
	if !ok {
		return bad("Invalid reference", "Refer to fields by name, as in msg.roomId or user.claims.team; numeric indexes and splats are not supported. "+exprHelp)
	}
	switch names[0] {
	case "msg":
		if len(names) != 2 {
			return bad("Invalid reference", "msg must be followed by exactly one field name, as in msg.roomId: only top-level fields of the message can be referenced. "+exprHelp)
		}
		return ExprPart{From: FromMsg, Path: names[1:]}, nil
	case "user":
		if len(names) == 2 && names[1] == "id" {
			return ExprPart{From: FromUser, Path: names[1:]}, nil
		}
		if len(names) == 3 && names[1] == "claims" {
			return ExprPart{From: FromUser, Path: names[1:]}, nil
		}
		return bad("Invalid reference", "user has two references: user.id and user.claims.<name> (one claim of the token). "+exprHelp)
	}
	return bad("Unknown reference", "There is no "+strconv.Quote(names[0])+" here. "+exprHelp)
}

// traversalNames returns the names of a traversal such as msg.roomId or
// msg["roomId"], and false when it has other steps (numeric index, splat).
func traversalNames(t hcl.Traversal) ([]string, bool) {
	var names []string
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			names = append(names, s.Name)
		case hcl.TraverseAttr:
			names = append(names, s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() != cty.String || s.Key.IsNull() || !s.Key.IsKnown() {
				return nil, false
			}
			names = append(names, s.Key.AsString())
		default:
			return nil, false
		}
	}
	return names, len(names) > 0
}

// pluginRefs compiles `plugins = [plugin.a, plugin.b]` into names, recording
// the range of each reference under "plugins[i]" for later checks.
func (d *decoder) pluginRefs(attr *hcl.Attribute, obj any) []string {
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		d.fail(obj, attr.Name, diags)
		return nil
	}
	names := make([]string, 0, len(exprs))
	for _, e := range exprs {
		t, diags := hcl.AbsTraversalForExpr(e)
		var ns []string
		ok := !diags.HasErrors()
		if ok {
			ns, ok = traversalNames(t)
		}
		if !ok || len(ns) != 2 || ns[0] != "plugin" {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin reference",
				Detail:   `Each entry of plugins must be a reference to a plugin block, as in plugins = [plugin.no_links].`,
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		d.ranges[rangeKey{obj, "plugins[" + strconv.Itoa(len(names)) + "]"}] = e.Range()
		names = append(names, ns[1])
	}
	return names
}
