package router

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-rt/switchboard/router/config"
)

// identity is who a connection belongs to.
type identity struct {
	userID string
	claims map[string]any
}

var errNoToken = errors.New("no token in the request")

// authenticator checks the upgrade request against the auth block.
type authenticator struct {
	cfg    config.Auth
	parser *jwt.Parser
	secret []byte
}

func newAuthenticator(cfg config.Auth) (*authenticator, error) {
	a := &authenticator{cfg: cfg}
	if !cfg.Enabled {
		return a, nil
	}
	if cfg.JWT == nil {
		return nil, errors.New("auth: no jwt block; add `jwt { secret = ... }` (connect plugins are configured with `plugins`)")
	}
	for _, alg := range cfg.JWT.Algorithms {
		if !strings.HasPrefix(alg, "HS") {
			return nil, fmt.Errorf("auth.jwt: algorithm %s is not supported yet; use HS256, HS384 or HS512", alg)
		}
	}
	if cfg.JWT.Secret == "" {
		return nil, errors.New("auth.jwt: the secret is empty; set SWITCHBOARD_JWT_SECRET or auth.jwt.secret")
	}
	a.secret = []byte(cfg.JWT.Secret)
	opts := []jwt.ParserOption{jwt.WithValidMethods(cfg.JWT.Algorithms), jwt.WithLeeway(cfg.JWT.Leeway)}
	if cfg.JWT.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWT.Issuer))
	}
	if cfg.JWT.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.JWT.Audience))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// authenticate finds and verifies the token. Without an auth block every
// connection is an anonymous user with a random id.
func (a *authenticator) authenticate(r *http.Request) (identity, error) {
	if !a.cfg.Enabled {
		return identity{userID: "anon-" + randomID()}, nil
	}
	tok := a.findToken(r)
	if tok == "" {
		return identity{}, errNoToken
	}
	return a.verify(tok)
}

func (a *authenticator) verify(tok string) (identity, error) {
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return a.secret, nil }); err != nil {
		return identity{}, err
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return identity{}, errors.New("token has no sub claim")
	}
	return identity{userID: sub, claims: claims}, nil
}

// findToken returns the first token found in the configured sources.
func (a *authenticator) findToken(r *http.Request) string {
	for _, src := range a.cfg.TokenFrom {
		switch src.Kind {
		case config.TokenQuery:
			if t := r.URL.Query().Get(src.Name); t != "" {
				return t
			}
		case config.TokenCookie:
			if ck, err := r.Cookie(src.Name); err == nil && ck.Value != "" {
				return ck.Value
			}
		case config.TokenHeader:
			v := r.Header.Get(src.Name)
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				return strings.TrimSpace(v[7:])
			}
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
