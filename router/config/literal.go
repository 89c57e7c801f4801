package config

import (
	"encoding/json"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"golang.org/x/text/unicode/norm"
)

// cty normalises every string to Unicode NFC, so a literal written
// "e\u0301" (e and a combining accent, as a client may send it) would
// become "é", and an enum, a pattern, a room or a test message would no
// longer mean what the config says nor what the live server compares byte
// for byte. The helpers here recover a quoted literal's text from the
// source and decode its escapes with HCL's own function, without
// normalising (see docs/RATIONALE.md, "Config strings are taken as
// written").

// rawString returns the text of a quoted string literal (a template with no
// interpolation) as written, or false for any other expression.
func (d *decoder) rawString(e hcl.Expression) (string, bool) {
	t, ok := e.(*hclsyntax.TemplateExpr)
	if !ok || !d.inSource(t.SrcRange) || d.src[t.SrcRange.Start.Byte] != '"' {
		return "", false // not a quoted string (a heredoc, a reference ...)
	}
	s := ""
	for _, p := range t.Parts {
		lit, ok := p.(*hclsyntax.LiteralValueExpr)
		if !ok {
			return "", false
		}
		part, ok := d.rawLiteral(lit)
		if !ok {
			return "", false
		}
		s += part
	}
	return s, true
}

// rawLiteral decodes one literal part of a quoted template from the source.
// It answers false when what it finds is not what HCL parsed, so the
// normalised value is used rather than a wrong one.
func (d *decoder) rawLiteral(lit *hclsyntax.LiteralValueExpr) (string, bool) {
	r := lit.SrcRange
	if lit.Val.Type() != cty.String || lit.Val.IsNull() || !d.inSource(r) {
		return "", false
	}
	s, diags := hclsyntax.ParseStringLiteralToken(hclsyntax.Token{
		Type:  hclsyntax.TokenQuotedLit,
		Bytes: d.src[r.Start.Byte:r.End.Byte],
		Range: r,
	})
	if diags.HasErrors() || norm.NFC.String(s) != lit.Val.AsString() {
		return "", false
	}
	return s, true
}

func (d *decoder) inSource(r hcl.Range) bool {
	return r.Filename == d.filename && 0 <= r.Start.Byte && r.Start.Byte <= r.End.Byte && r.End.Byte <= len(d.src) && r.Start.Byte < len(d.src)
}

// appendJSON encodes an expression as the JSON a client would send for
// it: quoted strings as written, numbers exact, object members in source
// order. Other expressions (function calls, interpolations) are evaluated.
func (d *decoder) appendJSON(dst []byte, e hcl.Expression) ([]byte, hcl.Diagnostics) {
	switch e := e.(type) {
	case *hclsyntax.ObjectConsExpr:
		dst = append(dst, '{')
		for i, item := range e.Items {
			if i > 0 {
				dst = append(dst, ',')
			}
			key, ok := "", false
			if k, isKey := item.KeyExpr.(*hclsyntax.ObjectConsKeyExpr); isKey {
				if key = hcl.ExprAsKeyword(k); key != "" && !k.ForceNonLiteral {
					ok = true
				} else {
					key, ok = d.rawString(k.Wrapped)
				}
			}
			if !ok {
				kv, diags := item.KeyExpr.Value(d.ctx)
				if diags.HasErrors() {
					return dst, diags
				}
				if kv.Type() != cty.String || !kv.IsKnown() || kv.IsNull() {
					return dst, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid key", Detail: "An object key must be a string.", Subject: item.KeyExpr.Range().Ptr()}}
				}
				key = kv.AsString()
			}
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
			var diags hcl.Diagnostics
			if dst, diags = d.appendJSON(dst, item.ValueExpr); diags.HasErrors() {
				return dst, diags
			}
		}
		return append(dst, '}'), nil
	case *hclsyntax.TupleConsExpr:
		dst = append(dst, '[')
		for i, x := range e.Exprs {
			if i > 0 {
				dst = append(dst, ',')
			}
			var diags hcl.Diagnostics
			if dst, diags = d.appendJSON(dst, x); diags.HasErrors() {
				return dst, diags
			}
		}
		return append(dst, ']'), nil
	}
	if s, ok := d.rawString(e); ok {
		return appendJSONString(dst, s), nil
	}
	v, diags := e.Value(d.ctx)
	if diags.HasErrors() {
		return dst, diags
	}
	v, _ = v.UnmarkDeep()
	b, err := ctyjson.SimpleJSONValue{Value: v}.MarshalJSON()
	if err != nil {
		return dst, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value", Detail: "The value cannot be written as JSON: " + err.Error() + ".", Subject: e.Range().Ptr()}}
	}
	return append(dst, b...), nil
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string from HCL is valid UTF-8: no error
	return append(dst, b...)
}
