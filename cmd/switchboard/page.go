package main

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html"
	"net/http"
	"strings"
)

// pageHTML is the page `serve` answers GET / with: it connects to the
// WebSocket path with the token in its own URL, joins a room, sends and
// shows what arrives. It loads nothing else.
//
//go:embed page.html
var pageHTML string

// pageHandler serves pageHTML for a WebSocket at path. The token is not
// part of the page: a page that carried the demo token would hand it to
// anyone who can load it, a DNS-rebinding site included (docs/SECURITY.md).
func pageHandler(path string) http.Handler {
	body := []byte(strings.Replace(pageHTML, "{{path}}", html.EscapeString(path), 1))
	// The inline script is allowed by its hash and nothing else runs or loads.
	_, script, _ := strings.Cut(pageHTML, "<script>")
	script, _, _ = strings.Cut(script, "</script>")
	sum := sha256.Sum256([]byte(script))
	csp := "default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; script-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'"
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer") // the address holds a token
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
}
