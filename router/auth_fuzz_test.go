package router

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/router/config"
)

// FuzzAuthenticate feeds arbitrary tokens through every token source and
// the JWT check: nothing may panic, and nothing but a correctly signed
// token may authenticate.
func FuzzAuthenticate(f *testing.F) {
	good, _ := IssueToken([]byte("fuzz-secret"), "alice", time.Hour, nil)
	for _, s := range []string{good, "", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.", "Bearer x", "switchboard.v1, tok", good + "x"} {
		f.Add(s, s)
	}
	a, err := newAuthenticator(config.Auth{
		Enabled: true,
		TokenFrom: []config.TokenSource{
			{Kind: config.TokenQuery, Name: "token"}, {Kind: config.TokenCookie, Name: "s"},
			{Kind: config.TokenHeader, Name: "Authorization"}, {Kind: config.TokenSubprotocol},
		},
		JWT: &config.JWT{Algorithms: []string{"HS256"}, Secret: "fuzz-secret"},
	}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok, header string) {
		r := &http.Request{URL: &url.URL{RawQuery: "token=" + url.QueryEscape(tok)}, Header: http.Header{}}
		r.Header.Set("Authorization", header)
		r.Header.Set("Cookie", "s="+header)
		r.Header.Set("Sec-WebSocket-Protocol", header)
		id, err := a.authenticate(r)
		if err == nil && tok != good {
			t.Fatalf("authenticated %q as %q", tok, id.userID)
		}
		if err == nil && id.userID != "alice" {
			t.Fatalf("wrong user %q", id.userID)
		}
		_, _ = a.verify(header)
		_ = subprotocolToken(offeredSubprotocols(http.Header{"Sec-Websocket-Protocol": {header, tok}}))
	})
}
