package router_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-rt/switchboard/router"
)

// authHCL is a small config: auth block given, one echo route.
func authHCL(auth string) string {
	return `
server {
  allowed_origins = ["https://app.example.com"]
}
auth {
` + auth + `
}
route "echo" {
  deliver {
    to = "sender"
  }
}
`
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claimsFor(sub string, ttl time.Duration) jwt.MapClaims {
	return jwt.MapClaims{"sub": sub, "exp": time.Now().Add(ttl).Unix()}
}

// dialWith connects with the given query, headers and options.
func dialWith(t *testing.T, s *server, query string, h http.Header, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	opts.HTTPHeader = h
	c, _, err := websocket.Dial(ctx, s.url+query, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// dialOK connects and returns the client after "connected" for user.
func dialOK(t *testing.T, s *server, query string, h http.Header, opts *websocket.DialOptions, user string) *client {
	t.Helper()
	cl := newClient(t, dialWith(t, s, query, h, opts), user)
	if m := cl.expect("connected"); m["userId"] != user {
		t.Fatalf("connected as %v, want %s", m["userId"], user)
	}
	return cl
}

// dialRefused connects and expects the close code.
func dialRefused(t *testing.T, s *server, query string, h http.Header, opts *websocket.DialOptions, code websocket.StatusCode) {
	t.Helper()
	newClient(t, dialWith(t, s, query, h, opts), "refused").expectClose(code)
}

func TestTokenSources(t *testing.T) {
	s := startServer(t, authHCL(`
  token_from = ["query:access_token", "cookie:session", "header:authorization", "subprotocol"]
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }`))
	tok := token(t, "alice", time.Hour)

	t.Run("query", func(t *testing.T) { dialOK(t, s, "?access_token="+tok, nil, nil, "alice") })
	t.Run("cookie", func(t *testing.T) {
		dialOK(t, s, "", http.Header{"Cookie": {"session=" + tok}, "Origin": {"https://app.example.com"}}, nil, "alice")
	})
	t.Run("cookie from a foreign site is refused", func(t *testing.T) {
		_, resp, err := s.dialRaw("", http.Header{"Cookie": {"session=" + tok}, "Origin": {"https://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site upgrade: resp=%v err=%v", resp, err)
		}
	})
	t.Run("bearer header", func(t *testing.T) {
		dialOK(t, s, "", http.Header{"Authorization": {"Bearer " + tok}}, nil, "alice")
	})
	t.Run("subprotocol", func(t *testing.T) {
		c := dialOK(t, s, "", nil, &websocket.DialOptions{Subprotocols: []string{router.Subprotocol, tok}}, "alice")
		if got := c.c.Subprotocol(); got != router.Subprotocol {
			t.Fatalf("server chose subprotocol %q; it must be %q and never the token", got, router.Subprotocol)
		}
	})
	t.Run("wrong query name", func(t *testing.T) {
		dialRefused(t, s, "?token="+tok, nil, nil, router.CloseUnauthorized)
	})
}

func TestFirstMessageAuth(t *testing.T) {
	hcl := authHCL(`
  token_from            = ["query:token", "first_message"]
  first_message_timeout = "300ms"
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }`)
	s := startServer(t, hcl)
	open := func(t *testing.T) *client {
		c, _, err := s.dialRaw("", nil)
		if err != nil {
			t.Fatal(err)
		}
		return newClient(t, c, "pending")
	}

	t.Run("accepted", func(t *testing.T) {
		c := open(t)
		c.send(`{"type":"auth","token":"` + token(t, "alice", time.Hour) + `","id":"a1"}`)
		if m := c.expect("connected"); m["userId"] != "alice" {
			t.Fatalf("connected = %v", m)
		}
		if m := c.expect("ack"); m["id"] != "a1" {
			t.Fatalf("ack = %v", m)
		}
		c.send(`{"type":"echo","x":1}`)
		c.expect("echo")
	})
	t.Run("anything else first is refused", func(t *testing.T) {
		c := open(t)
		c.send(`{"type":"echo","x":1}`)
		c.expectClose(router.CloseUnauthorized)
	})
	t.Run("bad token", func(t *testing.T) {
		c := open(t)
		c.send(`{"type":"auth","token":"nope"}`)
		c.expectClose(router.CloseUnauthorized)
	})
	t.Run("too slow", func(t *testing.T) {
		c := open(t)
		start := time.Now()
		c.expectClose(router.CloseUnauthorized)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("closed after %v", d)
		}
	})
	t.Run("query token still works", func(t *testing.T) {
		dialOK(t, s, "?token="+token(t, "bob", time.Hour), nil, nil, "bob")
	})
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJWTAlgorithms(t *testing.T) {
	dir := t.TempDir()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	der := func(pub crypto.PublicKey) []byte {
		b, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rsaPEM := writePEM(t, dir, "rsa.pub", "PUBLIC KEY", der(&rsaKey.PublicKey))
	ecPEM := writePEM(t, dir, "ec.pub", "PUBLIC KEY", der(&ecKey.PublicKey))
	edPEM := writePEM(t, dir, "ed.pub", "PUBLIC KEY", der(edPub))

	cases := []struct {
		name, jwtBlock string
		method         jwt.SigningMethod
		key            any
	}{
		{"HS384", `algorithms = ["HS384"]` + "\n secret = env(\"SWITCHBOARD_JWT_SECRET\")", jwt.SigningMethodHS384, []byte(testSecret)},
		{"HS512", `algorithms = ["HS512"]` + "\n secret = env(\"SWITCHBOARD_JWT_SECRET\")", jwt.SigningMethodHS512, []byte(testSecret)},
		{"RS256", `algorithms = ["RS256"]` + "\n public_key = file(\"" + rsaPEM + "\")", jwt.SigningMethodRS256, rsaKey},
		{"ES256", `algorithms = ["ES256"]` + "\n public_key = file(\"" + ecPEM + "\")", jwt.SigningMethodES256, ecKey},
		{"EdDSA", `algorithms = ["EdDSA"]` + "\n public_key = file(\"" + edPEM + "\")", jwt.SigningMethodEdDSA, edKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, authHCL("jwt {\n"+tc.jwtBlock+"\n}"))
			dialOK(t, s, "?token="+sign(t, tc.method, tc.key, claimsFor("alice", time.Hour), ""), nil, nil, "alice")
			// A token signed with another algorithm is refused, even with
			// the right key material (HS256 with the secret, say).
			other := sign(t, jwt.SigningMethodHS256, []byte(testSecret), claimsFor("alice", time.Hour), "")
			dialRefused(t, s, "?token="+other, nil, nil, router.CloseUnauthorized)
		})
	}

	t.Run("RS256 public key used as an HMAC secret is refused", func(t *testing.T) {
		pemBytes, _ := os.ReadFile(rsaPEM)
		s := startServer(t, authHCL("jwt {\n algorithms = [\"RS256\"]\n public_key = file(\""+rsaPEM+"\")\n}"))
		forged := sign(t, jwt.SigningMethodHS256, pemBytes, claimsFor("mallory", time.Hour), "")
		dialRefused(t, s, "?token="+forged, nil, nil, router.CloseUnauthorized)
	})

	t.Run("issuer, audience, nbf with leeway", func(t *testing.T) {
		s := startServer(t, authHCL(`jwt {
  secret   = env("SWITCHBOARD_JWT_SECRET")
  issuer   = "https://auth.example.com"
  audience = "switchboard"
  leeway   = "30s"
}`))
		good := jwt.MapClaims{"sub": "alice", "iss": "https://auth.example.com", "aud": "switchboard",
			"exp": time.Now().Add(time.Hour).Unix(), "nbf": time.Now().Add(10 * time.Second).Unix()}
		dialOK(t, s, "?token="+sign(t, jwt.SigningMethodHS256, []byte(testSecret), good, ""), nil, nil, "alice")
		for name, mutate := range map[string]func(jwt.MapClaims){
			"wrong issuer":   func(c jwt.MapClaims) { c["iss"] = "https://evil.example" },
			"wrong audience": func(c jwt.MapClaims) { c["aud"] = "other" },
			"nbf too late":   func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Minute).Unix() },
			"expired":        func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() },
		} {
			t.Run(name, func(t *testing.T) {
				c := jwt.MapClaims{}
				for k, v := range good {
					c[k] = v
				}
				mutate(c)
				dialRefused(t, s, "?token="+sign(t, jwt.SigningMethodHS256, []byte(testSecret), c, ""), nil, nil, router.CloseUnauthorized)
			})
		}
	})
}

// jwk renders an RSA public key as a JWK.
func jwk(kid string, pub *rsa.PublicKey) map[string]string {
	return map[string]string{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func TestJWKS(t *testing.T) {
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)

	t.Run("file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "jwks.json")
		b, _ := json.Marshal(map[string]any{"keys": []any{jwk("k1", &k1.PublicKey)}})
		os.WriteFile(p, b, 0o600)
		s := startServer(t, authHCL("jwt {\n algorithms = [\"RS256\"]\n jwks_file = \""+p+"\"\n}"))
		dialOK(t, s, "?token="+sign(t, jwt.SigningMethodRS256, k1, claimsFor("alice", time.Hour), "k1"), nil, nil, "alice")
		dialRefused(t, s, "?token="+sign(t, jwt.SigningMethodRS256, k2, claimsFor("alice", time.Hour), "k2"), nil, nil, router.CloseUnauthorized)
	})

	t.Run("url, refreshed", func(t *testing.T) {
		// A loopback identity provider whose key set rotates.
		var mu sync.Mutex
		keys := []any{jwk("k1", &k1.PublicKey)}
		fetches := 0
		idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			fetches++
			json.NewEncoder(w).Encode(map[string]any{"keys": keys})
		}))
		defer idp.Close()
		s := startServer(t, authHCL("jwt {\n algorithms = [\"RS256\"]\n jwks_url = \""+idp.URL+"\"\n jwks_refresh = \"200ms\"\n}"))
		dialOK(t, s, "?token="+sign(t, jwt.SigningMethodRS256, k1, claimsFor("alice", time.Hour), "k1"), nil, nil, "alice")

		mu.Lock()
		keys = []any{jwk("k2", &k2.PublicKey)}
		mu.Unlock()
		deadline := time.Now().Add(5 * time.Second)
		tok2 := sign(t, jwt.SigningMethodRS256, k2, claimsFor("bob", time.Hour), "k2")
		for {
			c, _, err := s.dialRaw("?token="+tok2, nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := newClient(t, c, "bob").readErr(2 * time.Second)
			if err == nil && m["type"] == "connected" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rotated key never accepted: %v %v", m, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		mu.Lock()
		n := fetches
		mu.Unlock()
		if n < 2 {
			t.Fatalf("JWKS fetched %d times; want a refresh", n)
		}
		// The old key is gone from the set: its tokens are refused now.
		dialRefused(t, s, "?token="+sign(t, jwt.SigningMethodRS256, k1, claimsFor("alice", time.Hour), "k1"), nil, nil, router.CloseUnauthorized)
	})

	t.Run("unreachable url fails at start", func(t *testing.T) {
		t.Setenv("SWITCHBOARD_JWT_SECRET", testSecret)
		cfg, err := router.ParseConfig([]byte(authHCL("jwt {\n algorithms = [\"RS256\"]\n jwks_url = \"http://127.0.0.1:1/jwks\"\n}")), "t.hcl")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := router.New(cfg); err == nil || !strings.Contains(err.Error(), "jwks_url") {
			t.Fatalf("New: %v", err)
		}
	})
}

func TestTokenExpiry(t *testing.T) {
	t.Run("closed 4001 at exp", func(t *testing.T) {
		s := startServer(t, authHCL("jwt {\n secret = env(\"SWITCHBOARD_JWT_SECRET\")\n}"))
		c := dialOK(t, s, "?token="+token(t, "alice", 1500*time.Millisecond), nil, nil, "alice")
		start := time.Now()
		c.expectClose(router.CloseUnauthorized)
		if d := time.Since(start); d > 4*time.Second {
			t.Fatalf("closed %v after connect", d)
		}
	})
	t.Run("refresh extends it", func(t *testing.T) {
		s := startServer(t, authHCL("on_expiry = \"refresh\"\njwt {\n secret = env(\"SWITCHBOARD_JWT_SECRET\")\n}"))
		c := dialOK(t, s, "?token="+token(t, "alice", 1500*time.Millisecond), nil, nil, "alice")
		c.send(`{"type":"auth","token":"` + token(t, "bob", time.Hour) + `","id":"r0"}`)
		if m := c.expect("error"); m["code"] != router.CodeAuthFailed || m["id"] != "r0" {
			t.Fatalf("refresh as another user: %v", m)
		}
		c.send(`{"type":"auth","token":"` + token(t, "alice", time.Hour) + `","id":"r1"}`)
		if m := c.expect("ack"); m["id"] != "r1" {
			t.Fatalf("refresh: %v", m)
		}
		time.Sleep(2500 * time.Millisecond) // past the first token's exp
		c.send(`{"type":"echo","still":"here"}`)
		c.expect("echo")
	})
	t.Run("refresh off", func(t *testing.T) {
		s := startServer(t, authHCL("jwt {\n secret = env(\"SWITCHBOARD_JWT_SECRET\")\n}"))
		c := dialOK(t, s, "?token="+token(t, "alice", time.Hour), nil, nil, "alice")
		c.send(`{"type":"auth","token":"` + token(t, "alice", time.Hour) + `"}`)
		if m := c.expect("error"); m["code"] != router.CodeAuthFailed {
			t.Fatalf("refresh with on_expiry=close: %v", m)
		}
	})
}
