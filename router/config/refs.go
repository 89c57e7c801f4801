package config

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// envelopeFields are in every message whatever the schema: "type" picks
// the route and "id" is the client's correlation id.
var envelopeFields = []string{"type", "id"}

// msgRefAttr names one msg.<field> reference inside an expression
// attribute, e.g. "room msg.roomId", so a problem with the reference is
// reported at the reference itself (see decoder.report).
func msgRefAttr(attr, field string) string { return attr + " msg." + field }

// msgRefRanges records the range of each msg.<field> reference of an
// expression attribute, for checkFieldRefs.
func (d *decoder) msgRefRanges(obj any, attr string, e hcl.Expression) {
	for _, t := range e.Variables() {
		names, ok := traversalNames(t)
		if !ok || len(names) != 2 || names[0] != "msg" {
			continue // reported by compileExpr
		}
		key := rangeKey{obj, msgRefAttr(attr, names[1])}
		if _, seen := d.ranges[key]; !seen {
			d.ranges[key] = t.SourceRange()
		}
	}
}

// checkFieldRefs reports msg.<field> references to fields that the
// route's schema does not declare, such as msg.roomid beside
// field "roomId": with a schema, only declared fields are checked and
// delivered, so the reference is a typo or a field the schema forgot.
// A route without a schema accepts any field and is not checked.
func checkFieldRefs(report reporter, r *Route, where string) {
	if r.Schema == nil {
		return
	}
	var declared []string
	for _, f := range r.Schema {
		if f.Name != "" {
			declared = append(declared, f.Name)
		}
	}
	type ref struct {
		obj         any
		attr, where string
		e           *Expr
	}
	var refs []ref
	// The same cases checkRoute compiles; the others are reported there.
	switch r.Action {
	case "join", "leave":
		refs = append(refs, ref{r, "room", where, r.Room})
	case "":
		if dl := r.Deliver; dl != nil {
			known := slices.Contains(targets, dl.To)
			if dl.To == ToRoom || !known {
				refs = append(refs, ref{dl, "room", where + " deliver", dl.Room})
			}
			if dl.To == ToUser || !known {
				refs = append(refs, ref{dl, "user", where + " deliver", dl.User})
			}
		}
	}
	for _, rf := range refs {
		if rf.e == nil {
			continue
		}
		var reported []string
		for _, p := range rf.e.Parts {
			if p.From != FromMsg || len(p.Path) != 1 {
				continue
			}
			name := p.Path[0]
			if slices.Contains(declared, name) || slices.Contains(envelopeFields, name) || slices.Contains(reported, name) {
				continue
			}
			reported = append(reported, name)
			list := "declares no field"
			if len(declared) > 0 {
				list = "declares " + quoteList(declared)
			}
			report(rf.obj, msgRefAttr(rf.attr, name), rf.where, "Undeclared field",
				fmt.Sprintf("msg.%s is not in the route's schema, which %s (besides \"type\" and \"id\", in every message).%s A field the schema does not declare is neither checked nor delivered: fix the name, or declare it with a field %q { type = \"string\" } block.",
					name, list, suggest(name, declared), name))
		}
	}
}
