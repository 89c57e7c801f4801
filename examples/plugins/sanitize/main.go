// Command sanitize is a plugin that makes relayed text inert as HTML: it
// escapes < > & " ' in the configured fields, so a client that puts the text
// into innerHTML shows "<script>" instead of running it.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o sanitize.wasm ./examples/plugins/sanitize
package main

import (
	"errors"
	"fmt"

	"github.com/switchboard-rt/switchboard/sdk"
)

// config is the plugin block's config.
type config struct {
	Fields []string `json:"fields"` // top-level string fields to escape; default ["text"]
}

var cfg config

func init() {
	sdk.HandleInit(func() error {
		cfg = config{}
		if err := sdk.ConfigStrict(&cfg); err != nil {
			return err
		}
		if cfg.Fields == nil {
			cfg.Fields = []string{"text"}
		}
		if len(cfg.Fields) == 0 {
			return errors.New(`fields: list at least one field, e.g. fields = ["text"]`)
		}
		for _, f := range cfg.Fields {
			if f == "" || f == "type" {
				return fmt.Errorf("fields: %q cannot be sanitized; list the envelope's text fields, e.g. \"text\"", f)
			}
		}
		return nil
	})
	sdk.HandleMessage(sanitize)
}

func sanitize(m *sdk.Message) sdk.Verdict {
	env, changed, err := sdk.RewriteStrings(m.Envelope(), cfg.Fields, escape)
	if err != nil {
		// The host checked the envelope is JSON: this is a bug here. The
		// details go to the log; the client gets words it can act on.
		sdk.Log(sdk.LevelError, "sanitize: "+err.Error())
		return sdk.Reject("sanitize_failed", "the message could not be sanitized")
	}
	if !changed {
		return sdk.Allow()
	}
	sdk.Count("sanitized", 1)
	return sdk.Transform(env)
}

// escape returns s with the characters that are special in HTML escaped
// as html.EscapeString does (without linking package html and its entity
// tables), and false when there are none (the same in every field).
func escape(_ string, s []byte) ([]byte, bool) {
	var out []byte
	last := 0 // s[last:] is not yet in out
	for i, c := range s {
		var e string
		switch c {
		case '&':
			e = "&amp;"
		case '<':
			e = "&lt;"
		case '>':
			e = "&gt;"
		case '"':
			e = "&#34;"
		case '\'':
			e = "&#39;"
		default:
			continue
		}
		out = append(append(out, s[last:i]...), e...)
		last = i + 1
	}
	if out == nil {
		return nil, false
	}
	return append(out, s[last:]...), true
}

func main() {}
