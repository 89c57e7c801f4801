package router

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-rt/switchboard/plugins"
	"github.com/switchboard-rt/switchboard/router/config"
)

// Subprotocol is the WebSocket subprotocol the server speaks. A client
// that passes its token as a subprotocol offers ["switchboard.v1", token];
// the server answers "switchboard.v1" and never echoes the token.
const Subprotocol = "switchboard.v1"

// identity is who a connection belongs to.
type identity struct {
	userID  string
	claims  map[string]any
	expires time.Time // zero: the token has no exp
}

// maxUserID bounds a user id (a token's sub): it is copied into every
// message the user sends and every presence event.
const maxUserID = 256

var (
	errNoToken      = errors.New("no token in the request")
	errAwaitMessage = errors.New("token expected in the first message")
)

// authenticator checks tokens against the auth block.
type authenticator struct {
	cfg       config.Auth
	connect   []plugins.ConnectPolicy // run first; one may identify the user
	parser    *jwt.Parser
	secret    []byte
	publicKey any         // from public_key (PEM)
	jwks      jwt.Keyfunc // from jwks_file or jwks_url
	stop      context.CancelFunc
}

func newAuthenticator(cfg config.Auth, connect []plugins.ConnectPolicy, log *slog.Logger) (*authenticator, error) {
	a := &authenticator{cfg: cfg, connect: connect, stop: func() {}}
	if !cfg.Enabled {
		return a, nil
	}
	j := cfg.JWT
	if j == nil {
		if len(connect) == 0 {
			return nil, errors.New("auth: nothing verifies tokens; add `jwt { secret = ... }` or connect plugins")
		}
		return a, nil
	}
	for _, alg := range j.Algorithms {
		if strings.HasPrefix(alg, "HS") && j.Secret == "" {
			return nil, fmt.Errorf("auth.jwt: %s needs a secret; set SWITCHBOARD_JWT_SECRET or auth.jwt.secret", alg)
		}
	}
	a.secret = []byte(j.Secret)
	if j.PublicKey != "" {
		k, err := parsePublicKey([]byte(j.PublicKey))
		if err != nil {
			return nil, fmt.Errorf("auth.jwt.public_key: %w", err)
		}
		a.publicKey = k
	}
	switch {
	case j.JWKSFile != "":
		raw, err := os.ReadFile(j.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("auth.jwt.jwks_file: %w", err)
		}
		kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(raw))
		if err != nil {
			return nil, fmt.Errorf("auth.jwt.jwks_file %s: %w", j.JWKSFile, err)
		}
		a.jwks = kf.Keyfunc
	case j.JWKSURL != "":
		ctx, cancel := context.WithCancel(context.Background())
		failFast := false
		kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{j.JWKSURL}, keyfunc.Override{
			RefreshInterval: j.JWKSRefresh,
			HTTPTimeout:     10 * time.Second,
			// A misconfigured URL should stop the start, not surface later
			// as every client being refused.
			NoErrorReturnFirstHTTPReq: &failFast,
			RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
				return func(_ context.Context, err error) { log.Warn("JWKS refresh failed", "url", u, "err", err) }
			},
		})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("auth.jwt.jwks_url %s: %w", j.JWKSURL, err)
		}
		a.jwks, a.stop = kf.Keyfunc, cancel
	}
	// A token without exp would never expire; one issued in the future
	// (beyond the leeway) comes from a broken or hostile issuer.
	opts := []jwt.ParserOption{jwt.WithValidMethods(j.Algorithms), jwt.WithLeeway(j.Leeway), jwt.WithIssuedAt()}
	if !j.ExpOptional {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if j.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(j.Issuer))
	}
	if j.Audience != "" {
		opts = append(opts, jwt.WithAudience(j.Audience))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// parsePublicKey reads a PEM "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" or a
// certificate.
func parsePublicKey(b []byte) (any, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not PEM")
	}
	switch blk.Type {
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(blk.Bytes)
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	}
	return x509.ParsePKIXPublicKey(blk.Bytes)
}

// key picks the verification key for a token. The parser has already
// refused algorithms the config does not list, so an HS256 token cannot be
// checked against a public key used as an HMAC secret.
func (a *authenticator) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if strings.HasPrefix(alg, "HS") {
		return a.secret, nil
	}
	if a.jwks != nil {
		return a.jwks(t)
	}
	ok := false
	switch a.publicKey.(type) {
	case *rsa.PublicKey:
		ok = strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		ok = strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		ok = alg == "EdDSA"
	}
	if !ok {
		return nil, fmt.Errorf("no %s key configured", alg)
	}
	return a.publicKey, nil
}

// authenticate finds and verifies the upgrade request's token. Without an
// auth block every connection is an anonymous user with a random id.
func (a *authenticator) authenticate(r *http.Request) (identity, error) {
	if !a.cfg.Enabled {
		return identity{userID: "anon-" + randomID()}, nil
	}
	// Connect plugins go first: one may refuse the request, or identify
	// the user itself (an API key, say); one that accepts without a user
	// leaves the decision to the next, then to the JWT.
	if len(a.connect) > 0 {
		in := connectInput(r)
		for _, p := range a.connect {
			v := p.HandleConnect(r.Context(), in)
			if !v.Accept {
				return identity{}, fmt.Errorf("plugin %s refused the connection: %s %s", p.Name(), v.Code, v.Reason)
			}
			if len(v.UserID) > maxUserID {
				return identity{}, fmt.Errorf("plugin %s gave a user id over %d bytes", p.Name(), maxUserID)
			}
			if v.UserID != "" {
				return identity{userID: v.UserID, claims: v.Claims}, nil
			}
		}
		if a.cfg.JWT == nil {
			return identity{}, errors.New("no connect plugin identified the user")
		}
	}
	tok, ok := findToken(a.cfg.TokenFrom, r)
	if tok == "" {
		if ok {
			return identity{}, errAwaitMessage
		}
		return identity{}, errNoToken
	}
	return a.verify(tok)
}

func (a *authenticator) verify(tok string) (identity, error) {
	if a.parser == nil {
		return identity{}, errors.New("tokens are not accepted: no jwt block")
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(tok, claims, a.key); err != nil {
		return identity{}, err
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return identity{}, errors.New("token has no sub claim")
	}
	if len(sub) > maxUserID {
		return identity{}, fmt.Errorf("token's sub claim is over %d bytes", maxUserID)
	}
	id := identity{userID: sub, claims: claims}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.expires = exp.Time.Add(a.cfg.JWT.Leeway)
	}
	return id, nil
}

// findToken returns the first token found in the configured sources.
// firstMessage reports that none was found but the client may still send
// one as its first message.
func findToken(sources []config.TokenSource, r *http.Request) (tok string, firstMessage bool) {
	for _, src := range sources {
		switch src.Kind {
		case config.TokenQuery:
			if t := r.URL.Query().Get(src.Name); t != "" {
				return t, false
			}
		case config.TokenCookie:
			if ck, err := r.Cookie(src.Name); err == nil && ck.Value != "" {
				return ck.Value, false
			}
		case config.TokenHeader:
			v := r.Header.Get(src.Name)
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				return strings.TrimSpace(v[7:]), false
			}
		case config.TokenSubprotocol:
			if t := subprotocolToken(offeredSubprotocols(r.Header)); t != "" {
				return t, false
			}
		case config.TokenFirstMessage:
			firstMessage = true
		}
	}
	return "", firstMessage
}

// offeredSubprotocols lists the subprotocols a WebSocket request offers.
func offeredSubprotocols(h http.Header) []string {
	var protos []string
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				protos = append(protos, p)
			}
		}
	}
	return protos
}

// subprotocolToken returns the protocol offered beside Subprotocol, which
// carries the token (browsers cannot set headers on a WebSocket).
func subprotocolToken(offered []string) string {
	if !slices.Contains(offered, Subprotocol) {
		return ""
	}
	for _, p := range offered {
		if p != Subprotocol {
			return p
		}
	}
	return ""
}

// IssueToken signs an HS256 token for sub with the given lifetime, for
// `switchboard token`, demos and tests.
func IssueToken(secret []byte, sub string, ttl time.Duration, extra map[string]any) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}
