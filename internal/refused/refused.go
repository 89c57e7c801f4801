// Package refused logs the server's refusals, one line each, so that an
// operator can see and count every connection the server turned away or
// closed, and why.
package refused

import (
	"context"
	"log/slog"
)

// Log writes one INFO line "refused" with the refusal's code (an HTTP
// status such as 403, 429 or 431, or a WebSocket close code such as 1009,
// 1013, 4001 or 4008), its reason, the client's address (after
// trusted_proxies) and any further attributes (key, value pairs).
func Log(l *slog.Logger, code int, reason, remote string, attrs ...any) {
	if !l.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	l.Info("refused", append([]any{"reason", reason, "code", code, "remote", remote}, attrs...)...)
}
