package config

import (
	"fmt"
	"slices"
)

// serverFields are set by the server in every delivered message: a
// transform cannot deliver them.
var serverFields = []string{"type", "id", "userId", "ts"}

// checkTransformFields checks a route's transform_fields: they extend a
// schema, for fields only a plugin's transform adds, so they need both.
func checkTransformFields(report reporter, r *Route, where string) {
	if r.TransformFields == nil {
		return
	}
	switch {
	case r.Schema == nil:
		report(r, "transform_fields", where, "transform_fields without a schema", "Without a schema every field of a message, transformed or not, is delivered; remove transform_fields, or declare a schema.")
		return
	case len(r.Plugins) == 0:
		report(r, "transform_fields", where, "transform_fields without plugins", "Only a plugin's transform adds fields to a message; list its plugins, or remove transform_fields.")
		return
	}
	seen := map[string]bool{}
	for _, f := range r.TransformFields {
		switch {
		case f == "":
			report(r, "transform_fields", where, "Empty field name", "transform_fields lists the names of top-level fields a plugin's transform adds, as in [\"flagged\"].")
		case slices.Contains(serverFields, f):
			report(r, "transform_fields", where, "Field set by the server", fmt.Sprintf("The server sets %q in every delivered message (%s), whatever a plugin writes; remove it from transform_fields.", f, quoteList(serverFields)))
		case slices.ContainsFunc(r.Schema, func(s *Field) bool { return s.Name == f }):
			report(r, "transform_fields", where, "Field already in the schema", fmt.Sprintf("The schema declares %q, so it is delivered already; remove it from transform_fields.", f))
		case seen[f]:
			report(r, "transform_fields", where, "Duplicate field", fmt.Sprintf("%q is listed twice in transform_fields.", f))
		}
		seen[f] = true
	}
}
