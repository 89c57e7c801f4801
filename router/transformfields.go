package router

import (
	"slices"

	"github.com/valyala/fastjson"

	"github.com/switchboard-rt/switchboard/router/config"
)

// maxUndeclared bounds the warnings of checkTransformFields per route.
const maxUndeclared = 32

// outFields are the fields a route delivers: its schema's and its
// transform_fields; nil when it has no schema (every field).
func outFields(rc *config.Route) []*config.Field {
	if rc.Schema == nil {
		return nil
	}
	fields := slices.Clip(rc.Schema)
	for _, name := range rc.TransformFields {
		fields = append(fields, &config.Field{Name: name})
	}
	return fields
}

// checkTransformFields warns, once per plugin and field, when a plugin's
// transform adds a top-level field the route does not deliver: its schema
// filters the output, and a field silently lost is a plugin author's
// puzzle. transform_fields declares such a field.
//
// Fields the envelope had before the transform are the client's (a
// transform passes them on), not the plugin's. At most maxUndeclared are
// remembered per route, so a plugin adding ever new names costs no memory.
func (r *Router) checkTransformFields(rt *route, plugin string, before, after *envelope) {
	if rt.outFields == nil || after.obj == nil || rt.undeclaredN.Load() >= maxUndeclared {
		return
	}
	after.obj.Visit(func(k []byte, _ *fastjson.Value) {
		if reservedField(k) || before.obj != nil && before.obj.Get(string(k)) != nil ||
			slices.ContainsFunc(rt.outFields, func(f *config.Field) bool { return f.Name == string(k) }) {
			return
		}
		if rt.undeclaredN.Load() >= maxUndeclared {
			return
		}
		if _, seen := rt.undeclared.LoadOrStore(plugin+"\x00"+string(k), true); !seen {
			rt.undeclaredN.Add(1)
			r.log.Warn("a plugin's transform added a field the route does not deliver: declare it in the schema or in transform_fields",
				"plugin", plugin, "route", rt.cfg.Type, "field", string(k))
		}
	})
}
