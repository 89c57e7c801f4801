package config

import (
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite testdata/invalid/*.golden from the current output")

// TestInvalid checks the exact text `switchboard validate` prints for each
// invalid config against its golden file.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid configs: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".hcl"), func(t *testing.T) {
			c, err := Load(file)
			if err == nil {
				t.Fatalf("Load succeeded, want diagnostics; config: %+v", c)
			}
			if c != nil {
				t.Errorf("Load returned a config along with an error")
			}
			var buf bytes.Buffer
			if err := WriteDiagnostics(&buf, err); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("diagnostics differ from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestAllReported proves one file with several mistakes yields them all,
// each with a source range, in source order.
func TestAllReported(t *testing.T) {
	_, err := Load("testdata/invalid/many.hcl")
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("error %T does not unwrap to hcl.Diagnostics", err)
	}
	want := []string{
		"Invalid size", "Invalid token source", "Unsupported JWT algorithm", "Invalid duration",
		"Invalid on_error", "Invalid reference", "Invalid field type", "Invalid rate",
		"Unknown plugin", "Unknown reference", "Duplicate route", "Invalid delivery target",
	}
	var got []string
	line := 0
	for _, d := range diags {
		got = append(got, d.Summary)
		if d.Severity != hcl.DiagError || d.Subject == nil || d.Detail == "" {
			t.Errorf("diagnostic %q lacks severity, range or detail: %+v", d.Summary, d)
			continue
		}
		if d.Subject.Start.Line < line {
			t.Errorf("diagnostic %q at line %d comes after line %d", d.Summary, d.Subject.Start.Line, line)
		}
		line = d.Subject.Start.Line
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summaries:\n got %q\nwant %q", got, want)
	}
}

func TestDiagnosticsError(t *testing.T) {
	_, err := Parse([]byte("route \"x\" {\n  plugins = [plugin.nope]\n  deliver {\n    to = \"mars\"\n  }\n}\n"), "r.hcl")
	want := `r.hcl:2,14-25: Unknown plugin; There is no plugin "nope". Declare it with a plugin "nope" { source = "..." } block, or fix the name.` + "\n" +
		`r.hcl:4,10-16: Invalid delivery target; "mars" is not one of "room", "user", "sender", "broadcast", "none".`
	if err == nil || err.Error() != want {
		t.Errorf("Error():\n got %v\nwant %s", err, want)
	}

	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, errors.New("open x.hcl: no such file")); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "Error: open x.hcl: no such file\n" {
		t.Errorf("plain error printed as %q", got)
	}
}

// TestPartial checks the config Parse hands back with its errors, from
// which validate loads plugins in the same run: the blocks that decoded,
// less the plugin blocks that have errors of their own.
func TestPartial(t *testing.T) {
	src := `plugin "good" {
  source = "good.wasm"
}

plugin "bad" {
  source = "bad.wasm"
  memory = "lots"
}

plugin "good" {
  source = "again.wasm"
}

route "x" {
  deliver {
    to = "mars"
  }
}
`
	_, err := Parse([]byte(src), "dir/p.hcl")
	var d *Diagnostics
	if !errors.As(err, &d) || d.Partial == nil {
		t.Fatalf("error %v has no partial config", err)
	}
	var names []string
	for _, p := range d.Partial.Plugins {
		names = append(names, p.Name)
	}
	if !reflect.DeepEqual(names, []string{"good"}) {
		t.Errorf("partial plugins = %q, want only the first good (bad and the duplicate have errors)", names)
	}
	p := d.Partial.Plugins[0]
	if p.Source != filepath.Join("dir", "good.wasm") || p.Memory != 16<<20 {
		t.Errorf("partial plugin not decoded with defaults: %+v", p)
	}
	if r := p.SourceRange; r.Filename != "dir/p.hcl" || r.Start.Line != 2 || r.Start.Column != 12 || r.End.Column != 23 {
		t.Errorf("SourceRange = %v, want dir/p.hcl:2,12-23", r)
	}
	if len(d.Partial.Routes) != 1 {
		t.Errorf("partial routes: %+v", d.Partial.Routes)
	}

	_, err = Parse([]byte("route {"), "syntax.hcl")
	if !errors.As(err, &d) || d.Partial != nil {
		t.Errorf("a file that does not parse has a partial config: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.hcl")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want os.ErrNotExist", err)
	}
}

func intp(n int) *int           { return &n }
func floatp(f float64) *float64 { return &f }
func msgExpr(field string) *Expr {
	return &Expr{Parts: []ExprPart{{From: FromMsg, Path: []string{field}}}}
}
func litExpr(s string) ExprPart     { return ExprPart{From: FromLiteral, Literal: s} }
func userPart(p ...string) ExprPart { return ExprPart{From: FromUser, Path: p} }

// clearRanges zeroes source ranges and moves compiled patterns to a map,
// so that a decoded Config can be compared with one written here.
func clearRanges(c *Config) map[string]string {
	patterns := map[string]string{}
	clear := func(e *Expr) {
		if e != nil {
			e.Range = hcl.Range{}
		}
	}
	for _, p := range c.Plugins {
		p.Range = hcl.Range{}
		p.SourceRange = hcl.Range{}
	}
	for _, r := range c.Routes {
		r.Range = hcl.Range{}
		clear(r.Room)
		if r.Deliver != nil {
			clear(r.Deliver.Room)
			clear(r.Deliver.User)
		}
		for _, f := range r.Schema {
			if f.Pattern != nil {
				patterns[r.Type+"."+f.Name] = f.Pattern.String()
				f.Pattern = nil
			}
		}
	}
	for _, tc := range c.Tests {
		tc.Range = hcl.Range{}
	}
	return patterns
}

func TestValidFull(t *testing.T) {
	t.Setenv("SWITCHBOARD_TEST_SECRET", "s3cret")
	t.Setenv("SWITCHBOARD_TEST_PREFIX", "") // unset and empty read the same
	c, err := Load("testdata/valid/full.hcl")
	if err != nil {
		var buf bytes.Buffer
		_ = WriteDiagnostics(&buf, err)
		t.Fatal(buf.String())
	}
	if err := c.Check(); err != nil {
		t.Errorf("a loaded config fails Check: %v", err)
	}
	if c.Filename != "testdata/valid/full.hcl" {
		t.Errorf("Filename = %q", c.Filename)
	}
	patterns := clearRanges(c)

	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", name, got, want)
		}
	}
	check("server", c.Server, Server{
		Listen:           ":9000",
		Path:             "/realtime",
		MaxPayload:       1000 * 1000,
		AllowedOrigins:   []string{"https://app.example.com"},
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("fd00::/8")},
		HandshakeTimeout: 2 * time.Second,
		SendQueue:        64 << 10,
		SendTimeout:      3 * time.Second,
		WriteDelay:       -1,
		MaxHeaderBytes:   8 << 10,
		Heartbeat:        Heartbeat{Interval: 15 * time.Second, Timeout: 5 * time.Second},
		TLS: &TLS{
			CertFile: filepath.Join("testdata", "valid", "certs", "server.pem"), // relative to full.hcl
			KeyFile:  "/etc/switchboard/server.key",
		},
	})
	key, _ := os.ReadFile("testdata/valid/jwt.pub")
	check("auth", c.Auth, Auth{
		Enabled: true,
		TokenFrom: []TokenSource{
			{TokenQuery, "access_token"}, {TokenCookie, "session"}, {TokenHeader, "Authorization"},
			{TokenSubprotocol, ""}, {TokenFirstMessage, ""},
		},
		RejectWith:          "http",
		Plugins:             []string{"tenant"},
		FirstMessageTimeout: 3 * time.Second,
		OnExpiry:            "refresh",
		JWT: &JWT{
			Algorithms:  []string{"HS512", "EdDSA"},
			Secret:      "s3cret",
			PublicKey:   strings.TrimSpace(string(key)),
			JWKSRefresh: time.Hour,
			Issuer:      "https://auth.example.com",
			Audience:    "chat",
			Leeway:      30 * time.Second,
			ExpOptional: true,
		},
	})
	check("limits", c.Limits, Limits{
		MessageRate:        &Rate{Count: 50, Per: time.Second, Burst: 100},
		UserMessageRate:    &Rate{Count: 6000, Per: time.Minute, Burst: 200},
		ConnectRate:        &Rate{Count: 10, Per: time.Minute, Burst: 3},
		ConnectionsPerUser: 5,
		RoomsPerConnection: 20,
		CloseAfter:         -1,
	})
	check("plugins", c.Plugins, []*Plugin{
		{Name: "tenant", Source: "/opt/plugins/tenant.wasm", Timeout: 10 * time.Millisecond, Memory: 16 << 20, OnError: "reject",
			Breaker: Breaker{Failures: 10, Window: 20, Users: 2, Cooldown: 5 * time.Second}},
		{
			Name:   "no_links",
			Source: filepath.Join("testdata", "valid", "plugins", "nolinks.wasm"),
			Config: map[string]any{
				"allow":  []any{"example.com"},
				"max":    float64(3),
				"strict": true,
				"nested": map[string]any{"ratio": 0.5, "none": nil},
			},
			Timeout: 2 * time.Millisecond,
			Memory:  1 << 20,
			Pool:    4,
			OnError: "allow",
			Breaker: Breaker{Failures: 3, Window: 50, Users: 3, Cooldown: 30 * time.Second},
		},
	})
	check("patterns", patterns, map[string]string{"send_message.roomId": "^[a-z0-9:_-]+$"})
	wantRoutes := []*Route{
		{Type: "join_team", Action: "join", Room: &Expr{Parts: []ExprPart{litExpr("team:"), userPart("claims", "team")}}},
		{Type: "leave_room", Action: "leave", Room: msgExpr("roomId")},
		{
			Type: "send_message",
			Schema: []*Field{
				{Name: "roomId", Type: TypeString, Required: true, MinLength: intp(1), MaxLength: intp(128)},
				{Name: "priority", Type: TypeNumber, Min: floatp(-1.5), Max: floatp(10), MinExact: "-1.5", MaxExact: "10"},
				{Name: "mood", Type: TypeString, Enum: []string{"happy", "sad"}},
				{Name: "tags", Type: TypeArray, MaxLength: intp(5)},
				{Name: "urgent", Type: TypeBool},
				{Name: "meta", Type: TypeObject},
			},
			Rate:     &Rate{Count: 100, Per: time.Minute, Burst: 10},
			UserRate: &Rate{Count: 300, Per: time.Minute, Burst: 30},
			Plugins:  []string{"no_links", "tenant"},
			Deliver:  &Deliver{To: ToRoom, Room: msgExpr("roomId"), ExcludeSender: true, As: "message_received"},
		},
		{
			Type:     "direct",
			Rate:     &Rate{Count: 1000, Per: time.Hour, Burst: 1000},
			UserRate: &Rate{Count: 2000, Per: time.Hour, Burst: 2000}, // burst defaults to the count
			Deliver:  &Deliver{To: ToUser, User: msgExpr("to"), As: "direct", RequireMember: true},
		},
		{Type: "whoami", Deliver: &Deliver{To: ToSender, As: "whoami", RequireMember: true}},
		{Type: "announce", Deliver: &Deliver{To: ToBroadcast, As: "announce", RequireMember: true}},
		{Type: "sink", Deliver: &Deliver{To: ToNone, As: "sunk", RequireMember: true}},
	}
	if len(c.Routes) != len(wantRoutes) {
		t.Fatalf("%d routes, want %d", len(c.Routes), len(wantRoutes))
	}
	for i, want := range wantRoutes {
		check("route "+want.Type, c.Routes[i], want)
	}
	check("tests", c.Tests, []*Test{
		{
			Name:   "links are rejected",
			User:   "alice",
			Claims: map[string]any{"team": "red", "admin": false},
			Send:   map[string]any{"type": "send_message", "roomId": "lobby", "text": "see http://evil.test"},
			Expect: TestExpect{Verdict: "reject", Code: "forbidden"},
			// In source order, as a client would write it.
			SendJSON: []byte(`{"type":"send_message","roomId":"lobby","text":"see http://evil.test"}`),
		},
		{
			Name:     "message reaches the room",
			User:     "bob",
			Send:     map[string]any{"type": "send_message", "roomId": "lobby", "text": "hi"},
			Expect:   TestExpect{Verdict: "deliver", To: "room", Room: "lobby", Fields: map[string]any{"text": "hi", "userId": "bob"}},
			SendJSON: []byte(`{"type":"send_message","roomId":"lobby","text":"hi"}`),
		},
	})
}

func TestValidEmpty(t *testing.T) {
	c, err := Load("testdata/valid/empty.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Server: Server{
			Listen: "127.0.0.1:8080", Path: "/ws", MaxPayload: 64 << 10, HandshakeTimeout: 5 * time.Second,
			SendQueue: 1 << 20, SendTimeout: 10 * time.Second, WriteDelay: 2 * time.Millisecond, MaxHeaderBytes: 16 << 10, Heartbeat: Heartbeat{Interval: 30 * time.Second, Timeout: 10 * time.Second},
		},
		Auth:     Auth{RejectWith: "close", FirstMessageTimeout: 5 * time.Second, OnExpiry: "close"},
		Limits:   Limits{RoomsPerConnection: 100, CloseAfter: 10},
		Filename: "testdata/valid/empty.hcl",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

func TestAuthDefaults(t *testing.T) {
	c, err := Parse([]byte("auth {\n  jwt {}\n}\n"), "a.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := Auth{
		Enabled: true, TokenFrom: []TokenSource{{TokenQuery, "token"}}, RejectWith: "close",
		FirstMessageTimeout: 5 * time.Second, OnExpiry: "close",
		JWT: &JWT{Algorithms: []string{"HS256"}, JWKSRefresh: 10 * time.Minute},
	}
	if !reflect.DeepEqual(c.Auth, want) {
		t.Errorf("got %+v, want %+v", c.Auth, want)
	}
}

func TestLimitsDefaults(t *testing.T) {
	src := []byte(`limits {
  message_rate      = "20/s"
  user_message_rate = "100/m"
  connect_rate      = "5/s"
}
`)
	c, err := Parse(src, "l.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{
		MessageRate:        &Rate{Count: 20, Per: time.Second, Burst: 20},
		UserMessageRate:    &Rate{Count: 100, Per: time.Minute, Burst: 100},
		ConnectRate:        &Rate{Count: 5, Per: time.Second, Burst: 5},
		RoomsPerConnection: 100,
		CloseAfter:         10,
	}
	if !reflect.DeepEqual(c.Limits, want) {
		t.Errorf("got %+v, want %+v", c.Limits, want)
	}
}

// TestCloseAfter: -1 never closes and counts are kept; 0, which would
// silently read as the default 10, and anything below -1 are refused.
func TestCloseAfter(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want int // 0: an error
	}{
		{"-1", -1}, {"1", 1}, {"25", 25}, {"0", 0}, {"-2", 0}, {"1.5", 0}, {`"3"`, 3},
	} {
		t.Run(tc.src, func(t *testing.T) {
			c, err := Parse([]byte("limits {\n  close_after = "+tc.src+"\n}\n"), "l.hcl")
			switch {
			case tc.want == 0 && err == nil:
				t.Errorf("close_after = %s accepted as %d, want an error", tc.src, c.Limits.CloseAfter)
			case tc.want != 0 && err != nil:
				t.Errorf("close_after = %s: %v", tc.src, err)
			case tc.want != 0 && c.Limits.CloseAfter != tc.want:
				t.Errorf("close_after = %s read as %d", tc.src, c.Limits.CloseAfter)
			}
		})
	}
}

// TestWriteDelay: "0s" writes at once (stored as negative, since zero
// means the default); negative and over-long delays are refused.
func TestWriteDelay(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want time.Duration // 0: an error
	}{
		{`"0s"`, -1}, {`"0"`, -1}, {`"500us"`, 500 * time.Microsecond}, {`"5ms"`, 5 * time.Millisecond}, {`"1s"`, time.Second},
		{`"-1ms"`, 0}, {`"2s"`, 0}, {`"soon"`, 0}, {`5`, 0},
	} {
		t.Run(tc.src, func(t *testing.T) {
			c, err := Parse([]byte("server {\n  write_delay = "+tc.src+"\n}\n"), "s.hcl")
			switch {
			case tc.want == 0 && err == nil:
				t.Errorf("write_delay = %s accepted as %v, want an error", tc.src, c.Server.WriteDelay)
			case tc.want != 0 && err != nil:
				t.Errorf("write_delay = %s: %v", tc.src, err)
			case tc.want != 0 && c.Server.WriteDelay != tc.want:
				t.Errorf("write_delay = %s read as %v", tc.src, c.Server.WriteDelay)
			}
		})
	}
}

// TestTrustedProxies: addresses and CIDR ranges; anything else is an
// error naming the entry.
func TestTrustedProxies(t *testing.T) {
	c, err := Parse([]byte(`server {
  trusted_proxies = ["10.1.2.3/8", "::ffff:192.0.2.1", "2001:db8::1"]
}
`), "s.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8::1/128")}
	if !reflect.DeepEqual(c.Server.TrustedProxies, want) {
		t.Errorf("got %v, want %v", c.Server.TrustedProxies, want)
	}
	for _, bad := range []string{`["proxy.internal"]`, `["10.0.0.0/33"]`, `["fe80::1%eth0"]`, `[""]`, `"10.0.0.1"`} {
		_, err := Parse([]byte("server {\n  trusted_proxies = "+bad+"\n}\n"), "s.hcl")
		if err == nil {
			t.Errorf("trusted_proxies = %s accepted", bad)
		}
	}
}

// TestAuthReserved: "auth" carries first-message tokens and refreshes, so
// it is reserved whenever there is an auth block, whatever token_from says,
// and free to use without one.
func TestAuthReserved(t *testing.T) {
	route := "route \"auth\" {\n  deliver {\n    to = \"sender\"\n  }\n}\n"
	if _, err := Parse([]byte(route), "r.hcl"); err != nil {
		t.Errorf("route \"auth\" without an auth block: %v", err)
	}
	for _, from := range []string{`["query:token"]`, `["first_message"]`} {
		src := "auth {\n  token_from = " + from + "\n  jwt {}\n}\n" + route
		_, err := Parse([]byte(src), "r.hcl")
		if err == nil || !strings.Contains(err.Error(), "Reserved route type") {
			t.Errorf("token_from = %s: got %v, want Reserved route type", from, err)
		}
	}
}

// TestKeySources: an asymmetric algorithm is satisfied by any one of
// public_key, jwks_file and jwks_url.
func TestKeySources(t *testing.T) {
	for _, key := range []string{`public_key = file("jwt.pub")`, `jwks_file = "jwks.json"`, `jwks_url = "http://127.0.0.1:9999/jwks"`, ""} {
		t.Run(key, func(t *testing.T) {
			src := "auth {\n  jwt {\n    algorithms = [\"RS256\", \"ES256\"]\n    " + key + "\n  }\n}\n"
			_, err := Parse([]byte(src), "testdata/valid/router.hcl")
			if key == "" {
				if err == nil || !strings.Contains(err.Error(), "Missing public key") {
					t.Errorf("no key source: got %v, want Missing public key", err)
				}
			} else if err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCookieOrigins: cookie tokens need allowed_origins (CSWSH); other
// sources do not.
func TestCookieOrigins(t *testing.T) {
	for _, tc := range []struct {
		from, origins string
		ok            bool
	}{
		{`["cookie:session"]`, "", false},
		{`["query:token", "cookie:session"]`, "", false},
		{`["cookie:session"]`, `allowed_origins = ["https://app.example.com"]`, true},
		{`["query:token", "header:authorization", "subprotocol", "first_message"]`, "", true},
	} {
		t.Run(tc.from+tc.origins, func(t *testing.T) {
			src := "server {\n  " + tc.origins + "\n}\nauth {\n  token_from = " + tc.from + "\n  jwt {}\n}\n"
			_, err := Parse([]byte(src), "c.hcl")
			if tc.ok && err != nil {
				t.Error(err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "Cookie auth without allowed_origins")) {
				t.Errorf("got %v, want Cookie auth without allowed_origins", err)
			}
		})
	}
}

func TestRelativeTLSAndJWKS(t *testing.T) {
	src := []byte("server {\n  tls {\n    cert_file = \"c.pem\"\n    key_file = \"k/k.pem\"\n  }\n}\nauth {\n  jwt {\n    algorithms = [\"ES256\"]\n    jwks_file = \"j.json\"\n  }\n}\n")
	c, err := Parse(src, "/etc/switchboard/router.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if got := *c.Server.TLS; got != (TLS{CertFile: "/etc/switchboard/c.pem", KeyFile: "/etc/switchboard/k/k.pem"}) {
		t.Errorf("TLS = %+v", got)
	}
	if got := c.Auth.JWT.JWKSFile; got != "/etc/switchboard/j.json" {
		t.Errorf("JWKSFile = %q", got)
	}
}

// TestDefaultConfig keeps router.hcl in step with the protocol in DESIGN.md.
func TestDefaultConfig(t *testing.T) {
	c, err := Load("../../router.hcl")
	if err != nil {
		var buf bytes.Buffer
		_ = WriteDiagnostics(&buf, err)
		t.Fatal(buf.String())
	}
	if err := c.Check(); err != nil {
		t.Errorf("router.hcl fails Check: %v", err)
	}
	if c.Server.Listen != "127.0.0.1:8080" || c.Server.Path != "/ws" || c.Server.MaxPayload != 64<<10 {
		t.Errorf("server = %+v", c.Server)
	}
	if !c.Auth.Enabled || c.Auth.JWT == nil || !reflect.DeepEqual(c.Auth.TokenFrom, []TokenSource{{TokenQuery, "token"}}) {
		t.Errorf("auth = %+v", c.Auth)
	}
	// Every frame counts against a connection rate (docs/SECURITY.md).
	if l := c.Limits; l.MessageRate == nil || *l.MessageRate != (Rate{50, time.Second, 100}) || l.CloseAfter != 10 {
		t.Errorf("limits = %+v", l)
	}
	roomID := msgExpr("roomId")
	for _, tc := range []struct {
		typ, action, to, as string
		excludeSender       bool
		rate                *Rate
		required            []string
	}{
		{typ: "join_room", action: "join", rate: &Rate{10, time.Second, 50}, required: []string{"roomId"}},
		{typ: "leave_room", action: "leave", rate: &Rate{10, time.Second, 50}, required: []string{"roomId"}},
		{typ: "send_message", to: ToRoom, as: "message_received", excludeSender: true, rate: &Rate{20, time.Second, 20}, required: []string{"roomId", "text"}},
		{typ: "typing_start", to: ToRoom, as: "typing_start", excludeSender: true, rate: &Rate{5, time.Second, 5}, required: []string{"roomId"}},
		{typ: "typing_stop", to: ToRoom, as: "typing_stop", excludeSender: true, rate: &Rate{5, time.Second, 5}, required: []string{"roomId"}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			r := c.Route(tc.typ)
			if r == nil {
				t.Fatal("no route")
			}
			var required []string
			for _, f := range r.Schema {
				if f.Required {
					required = append(required, f.Name)
				}
			}
			if !reflect.DeepEqual(required, tc.required) {
				t.Errorf("required fields %q, want %q", required, tc.required)
			}
			if !reflect.DeepEqual(r.Rate, tc.rate) {
				t.Errorf("rate %+v, want %+v", r.Rate, tc.rate)
			}
			if r.Action != tc.action {
				t.Errorf("action %q, want %q", r.Action, tc.action)
			}
			if tc.action != "" {
				if r.Room == nil || !reflect.DeepEqual(r.Room.Parts, roomID.Parts) || r.Deliver != nil {
					t.Errorf("room %v, deliver %+v; want msg.roomId and no deliver", r.Room, r.Deliver)
				}
				return
			}
			d := r.Deliver
			if d == nil || d.To != tc.to || d.As != tc.as || d.ExcludeSender != tc.excludeSender || !d.RequireMember ||
				d.Room == nil || !reflect.DeepEqual(d.Room.Parts, roomID.Parts) {
				t.Errorf("deliver %+v", d)
			}
		})
	}
	if text := c.Route("send_message").Schema[1]; text.Name != "text" || *text.MaxLength != 2000 {
		t.Errorf("send_message text field %+v, want max_length 2000", text)
	}
}

func TestRelativeSource(t *testing.T) {
	src := []byte("plugin \"p\" {\n  source = \"p.wasm\"\n}\n")
	for _, tc := range []struct{ filename, want string }{
		{"/etc/switchboard/router.hcl", "/etc/switchboard/p.wasm"},
		{"router.hcl", "p.wasm"},
		{"", "p.wasm"},
	} {
		t.Run(tc.filename, func(t *testing.T) {
			c, err := Parse(src, tc.filename)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Plugins[0].Source; got != tc.want {
				t.Errorf("Source = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEnvAndFile(t *testing.T) {
	t.Setenv("SB_ROOM", "lobby")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := []byte(`auth {
  jwt {
    secret = trimspace(file("secret"))
    issuer = env("SB_UNSET_VARIABLE_FOR_TEST")
  }
}
route "r" {
  deliver {
    to   = "room"
    room = "${env("SB_ROOM")}:${msg.roomId}"
  }
}
`)
	c, err := Parse(src, filepath.Join(dir, "router.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.JWT.Secret != "hunter2" || c.Auth.JWT.Issuer != "" {
		t.Errorf("jwt = %+v", c.Auth.JWT)
	}
	want := []ExprPart{litExpr("lobby:"), {From: FromMsg, Path: []string{"roomId"}}}
	if got := c.Routes[0].Deliver.Room.Parts; !reflect.DeepEqual(got, want) {
		t.Errorf("room parts %+v, want %+v", got, want)
	}
}

func TestExprString(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{`msg.roomId`, `msg.roomId`},
		{`msg["roomId"]`, `msg.roomId`},
		{`user.id`, `user.id`},
		{`"team:${user.claims.team}"`, `"team:${user.claims.team}"`},
		{`"${msg.a}${msg.b}"`, `"${msg.a}${msg.b}"`},
		{`"lobby"`, `"lobby"`},
		{`"a$${b}\"c"`, `"a$${b}\"c"`},
		{`"a${"b"}c"`, `"abc"`},
	} {
		t.Run(tc.src, func(t *testing.T) {
			src := "route \"r\" {\n  action = \"join\"\n  room = " + tc.src + "\n}\n"
			c, err := Parse([]byte(src), "e.hcl")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Routes[0].Room.String(); got != tc.want {
				t.Errorf("String() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  bool
	}{
		{in: "512B", want: 512},
		{in: "64KiB", want: 64 << 10},
		{in: "64kib", want: 64 << 10},
		{in: "1MiB", want: 1 << 20},
		{in: "1MB", want: 1000000},
		{in: "2KB", want: 2000},
		{in: "1GiB", want: 1 << 30},
		{in: "4 KiB", want: 4096},
		{in: "1024", want: 1024},
		{in: "0", want: 0},
		{in: "2GiB", err: true},
		{in: "99999999999999999999", err: true},
		{in: "1.5MiB", err: true},
		{in: "-1", err: true},
		{in: "KiB", err: true},
		{in: "10XB", err: true},
		{in: "", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *Rate
	}{
		{"20/s", &Rate{20, time.Second, 20}},
		{"100/m", &Rate{100, time.Minute, 100}},
		{"1000/h", &Rate{1000, time.Hour, 1000}},
		{" 5 / s ", &Rate{5, time.Second, 5}},
		{"0/s", nil},
		{"-1/s", nil},
		{"5/d", nil},
		{"5", nil},
		{"/s", nil},
		{"5/sec", nil},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseRate(tc.in)
			if !reflect.DeepEqual(got, tc.want) || (err == nil) != (tc.want != nil) {
				t.Errorf("parseRate(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

// goConfig is a valid config as an embedding program would build it.
func goConfig() *Config {
	return &Config{
		Auth:    Auth{Enabled: true, JWT: &JWT{Secret: "x"}},
		Plugins: []*Plugin{{Name: "p", Source: "p.wasm"}},
		Routes: []*Route{
			{Type: "join_room", Action: "join", Room: msgExpr("roomId")},
			{
				Type:    "send_message",
				Schema:  []*Field{{Name: "text", Type: TypeString, MaxLength: intp(10), Pattern: regexp.MustCompile(`^\w+$`)}, {Name: "roomId", Type: TypeString}},
				Rate:    &Rate{Count: 5, Per: time.Second},
				Plugins: []string{"p"},
				Deliver: &Deliver{To: ToRoom, Room: msgExpr("roomId"), RequireMember: true},
			},
		},
	}
}

func TestGoDefaults(t *testing.T) {
	c := goConfig()
	c.Defaults()
	if err := c.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	p := c.Plugins[0]
	if p.Timeout != 10*time.Millisecond || p.Memory != 16<<20 || p.OnError != "reject" || p.Pool != 0 ||
		p.Breaker != (Breaker{Failures: 10, Window: 20, Users: 2, Cooldown: 5 * time.Second}) {
		t.Errorf("plugin defaults: %+v", p)
	}
	one := goConfig()
	one.Plugins[0].Breaker.Failures = 1
	one.Defaults()
	if b := one.Plugins[0].Breaker; b.Users != 1 || b.Window != 20 {
		t.Errorf("breaker defaults with failures = 1: %+v, want users 1 (2 could never open it)", b)
	}
	r := c.Route("send_message")
	if r.Rate.Burst != 5 || r.Deliver.As != "send_message" {
		t.Errorf("route defaults: rate %+v, as %q", r.Rate, r.Deliver.As)
	}
	if !reflect.DeepEqual(c.Auth.TokenFrom, []TokenSource{{TokenQuery, "token"}}) || c.Auth.RejectWith != "close" ||
		!reflect.DeepEqual(c.Auth.JWT.Algorithms, []string{"HS256"}) {
		t.Errorf("auth defaults: %+v %+v", c.Auth, c.Auth.JWT)
	}
	if c.Server.SendQueue != 1<<20 || c.Server.SendTimeout != 10*time.Second || c.Server.Heartbeat.Timeout != 10*time.Second || c.Server.MaxHeaderBytes != 16<<10 || c.Server.TLS != nil {
		t.Errorf("server defaults: %+v", c.Server)
	}
	if c.Auth.FirstMessageTimeout != 5*time.Second || c.Auth.OnExpiry != "close" || c.Auth.JWT.JWKSRefresh != 10*time.Minute {
		t.Errorf("auth defaults: %+v %+v", c.Auth, c.Auth.JWT)
	}
	if l := c.Limits; l != (Limits{RoomsPerConnection: 100, CloseAfter: 10}) {
		t.Errorf("limits defaults: %+v", l)
	}
	c.Limits.MessageRate = &Rate{Count: 3, Per: time.Second}
	c.Limits.UserMessageRate = &Rate{Count: 4, Per: time.Second}
	c.Limits.ConnectRate = &Rate{Count: 5, Per: time.Second}
	r.UserRate = &Rate{Count: 6, Per: time.Second}
	c.Defaults()
	for _, rt := range []*Rate{c.Limits.MessageRate, c.Limits.UserMessageRate, c.Limits.ConnectRate, r.UserRate} {
		if rt.Burst != rt.Count {
			t.Errorf("rate %+v: burst does not default to the count", rt)
		}
	}
	c.Server.SendQueue = 7
	c.Defaults()
	if c.Server.SendQueue != 7 {
		t.Errorf("Defaults overwrote a set value")
	}
}

func TestGoCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		want   []string // one substring per expected error line
	}{
		{"duplicate route", func(c *Config) { c.Routes = append(c.Routes, c.Routes[0]) },
			[]string{`route "join_room" name: Duplicate route`}},
		{"reserved route", func(c *Config) { c.Routes[0].Type = "ack" }, []string{"Reserved route type"}},
		{"auth reserved with first_message", func(c *Config) {
			c.Auth.TokenFrom = []TokenSource{{Kind: TokenFirstMessage}}
			c.Routes[0].Type = "auth"
		}, []string{"Reserved route type"}},
		{"auth reserved with any auth block", func(c *Config) { c.Routes[0].Type = "auth" }, []string{`(reserved: "error", "ack", "connected", "auth")`}},
		{"on_expiry", func(c *Config) { c.Auth.OnExpiry = "refrsh" }, []string{`auth on_expiry: Invalid on_expiry; "refrsh" is not one of "close", "refresh". Did you mean "refresh"?`}},
		{"first_message_timeout", func(c *Config) { c.Auth.FirstMessageTimeout = -time.Second }, []string{"auth first_message_timeout: Negative duration"}},
		{"cookie without allowed_origins", func(c *Config) {
			c.Auth.TokenFrom = []TokenSource{{TokenQuery, "token"}, {TokenCookie, "session"}}
		}, []string{"auth token_from: Cookie auth without allowed_origins; With cookie:session"}},
		{"asymmetric without key", func(c *Config) { c.Auth.JWT.Algorithms = []string{"HS256", "ES256"} },
			[]string{"auth jwt algorithms: Missing public key; ES256 tokens"}},
		{"jwks_url", func(c *Config) {
			c.Auth.JWT.Algorithms = []string{"RS256"}
			c.Auth.JWT.JWKSURL = "file:///etc/jwks.json"
		}, []string{`auth jwt jwks_url: Invalid JWKS URL; "file:///etc/jwks.json" is not an http(s) URL`}},
		{"jwks_refresh", func(c *Config) { c.Auth.JWT.JWKSRefresh = -time.Minute }, []string{"auth jwt jwks_refresh: Negative duration"}},
		{"tls", func(c *Config) { c.Server.TLS = &TLS{CertFile: "c.pem"} }, []string{"server tls key_file: Incomplete TLS"}},
		{"tls empty", func(c *Config) { c.Server.TLS = &TLS{} },
			[]string{"server tls cert_file: Incomplete TLS", "server tls key_file: Incomplete TLS"}},
		{"max_header_bytes", func(c *Config) { c.Server.MaxHeaderBytes = -1 }, []string{"server: Negative limit"}},
		{"negative limits", func(c *Config) { c.Limits.ConnectionsPerUser = -1 }, []string{"limits: Negative limit"}},
		{"rooms_per_connection", func(c *Config) { c.Limits.RoomsPerConnection = -5 }, []string{"limits: Negative limit"}},
		{"close_after", func(c *Config) { c.Limits.CloseAfter = -2 }, []string{"limits: Negative limit"}},
		{"limits rates", func(c *Config) {
			c.Limits.MessageRate = &Rate{Count: 0, Per: time.Second}
			c.Limits.UserMessageRate = &Rate{Count: 5}
			c.Limits.ConnectRate = &Rate{Count: 5, Per: time.Second, Burst: -1}
		}, []string{"limits message_rate: Invalid rate", "limits user_message_rate: Invalid rate", "limits connect_rate: Invalid rate"}},
		{"user_rate", func(c *Config) { c.Routes[1].UserRate = &Rate{Count: 1} }, []string{`route "send_message" user_rate: Invalid rate`}},
		{"duplicate plugin", func(c *Config) { c.Plugins = append(c.Plugins, &Plugin{Name: "p", Source: "q"}) }, []string{"Duplicate plugin"}},
		{"unknown plugin", func(c *Config) { c.Routes[1].Plugins = []string{"p", "q"} },
			[]string{`route "send_message" plugins[1]: Unknown plugin; There is no plugin "q". Did you mean "p"?`}},
		{"empty source", func(c *Config) { c.Plugins[0].Source = "" }, []string{"Missing plugin source"}},
		{"on_error", func(c *Config) { c.Plugins[0].OnError = "ignore" }, []string{"Invalid on_error"}},
		{"on_error allow, breaker unstated", func(c *Config) { c.Plugins[0].OnError, c.Plugins[0].Breaker.Failures = "allow", 0 }, []string{"on_error: Unstated breaker with on_error allow"}},
		{"breaker that cannot open", func(c *Config) { c.Plugins[0].Breaker = Breaker{Failures: 30, Window: 20} }, []string{"Invalid breaker; The breaker could never open"}},
		{"breaker users", func(c *Config) { c.Plugins[0].Breaker = Breaker{Failures: 2, Users: 3} }, []string{"Invalid breaker; The breaker could never open"}},
		{"breaker window", func(c *Config) { c.Plugins[0].Breaker.Window = 5000 }, []string{"Invalid breaker"}},
		{"action", func(c *Config) { c.Routes[0].Action = "enter" }, []string{"Invalid action"}},
		{"join without room", func(c *Config) { c.Routes[0].Room = nil }, []string{"Missing room"}},
		{"action and deliver", func(c *Config) { c.Routes[0].Deliver = &Deliver{To: ToSender} }, []string{"Both action and deliver"}},
		{"no deliver", func(c *Config) { c.Routes[1].Deliver = nil }, []string{"Missing deliver block"}},
		{"to", func(c *Config) { c.Routes[1].Deliver.To = "all" }, []string{"Invalid delivery target"}},
		{"to room without room", func(c *Config) { c.Routes[1].Deliver.Room = nil }, []string{"Missing room"}},
		{"to user without user", func(c *Config) { c.Routes[1].Deliver = &Deliver{To: ToUser} }, []string{"Missing user"}},
		{"bad expr", func(c *Config) { c.Routes[0].Room = &Expr{Parts: []ExprPart{{From: FromUser, Path: []string{"name"}}}} },
			[]string{"Invalid reference"}},
		{"empty expr", func(c *Config) { c.Routes[0].Room = &Expr{} }, []string{"Empty expression"}},
		{"undeclared field", func(c *Config) { c.Routes[1].Deliver.Room = msgExpr("roomid") },
			[]string{`route "send_message" deliver room msg.roomid: Undeclared field; msg.roomid is not in the route's schema, which declares "text", "roomId" (besides "type" and "id", in every message). Did you mean "roomId"?`}},
		{"token source", func(c *Config) {
			c.Auth.TokenFrom = []TokenSource{{Kind: "query"}, {Kind: "header", Name: "x-token"}, {Kind: "body"}}
		}, []string{"token_from[0]: Invalid token source", "token_from[1]: Invalid token source", "token_from[2]: Invalid token source"}},
		{"reject_with", func(c *Config) { c.Auth.RejectWith = "401" }, []string{"Invalid reject_with"}},
		{"jwt algorithm", func(c *Config) { c.Auth.JWT.Algorithms = []string{"none"} }, []string{"Unsupported JWT algorithm"}},
		{"field type", func(c *Config) { c.Routes[1].Schema[0].Type = "text" }, []string{"Invalid field type"}},
		{"min > max", func(c *Config) {
			c.Routes[1].Schema = append(c.Routes[1].Schema, &Field{Name: "n", Type: TypeNumber, Min: floatp(2), Max: floatp(1)})
		}, []string{"min is greater than max"}},
		{"rate", func(c *Config) { c.Routes[1].Rate.Count = 0 }, []string{"Invalid rate"}},
		{"several", func(c *Config) {
			c.Server.Path = "ws"
			c.Plugins[0].OnError = "x"
			c.Routes[1].Deliver.To = "x"
		}, []string{"Invalid path", "Invalid on_error", "Invalid delivery target"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goConfig()
			c.Defaults()
			tc.change(c)
			err := c.Check()
			if err == nil {
				t.Fatalf("Check passed, want %q", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, want := range tc.want {
				if !strings.Contains(lines[i], want) {
					t.Errorf("error %d = %q, want it to contain %q", i, lines[i], want)
				}
			}
		})
	}
}
