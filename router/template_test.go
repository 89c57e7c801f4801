package router_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-rt/switchboard/router"
)

// templateHCL has room and user expressions whose references may be
// missing or not strings in a message or token.
const templateHCL = `
auth {
  token_from = ["query:token"]
  jwt {
    algorithms = ["HS256"]
    secret     = env("SWITCHBOARD_JWT_SECRET")
  }
}
route "join_team" {
  action = "join"
  room   = "team:${user.claims.team}"
}
route "join_topic" {
  action = "join"
  room   = "topic:${msg.topic}"
}
route "team_say" {
  deliver {
    to   = "room"
    room = "team:${user.claims.team}"
  }
}
route "dm" {
  deliver {
    to   = "user"
    user = msg.to
  }
}
route "dm_team" {
  deliver {
    to   = "user"
    user = "${user.claims.team}-${msg.to}"
  }
}
`

// templateCases are messages whose target has a missing or non-string
// part, with the code and the words the refusal must carry; claims are
// the sender's token claims.
var templateCases = []struct {
	name   string
	claims map[string]any
	msg    string
	code   string
	words  string
	field  string
}{
	{"claim absent", nil, `{"type":"join_team"}`, router.CodeMissingTarget, `"team" claim`, ""},
	{"claim number", map[string]any{"team": 5}, `{"type":"join_team"}`, router.CodeMissingTarget, "not a string", ""},
	{"claim empty", map[string]any{"team": ""}, `{"type":"join_team"}`, router.CodeMissingTarget, "empty", ""},
	{"claim absent, deliver", nil, `{"type":"team_say","text":"hi"}`, router.CodeMissingTarget, `"team" claim`, ""},
	{"field absent in template", nil, `{"type":"join_topic"}`, router.CodeMissingTarget, `"topic"`, "topic"},
	{"field number in template", nil, `{"type":"join_topic","topic":5}`, router.CodeInvalidField, "must be a string", "topic"},
	{"field empty in template", nil, `{"type":"join_topic","topic":""}`, router.CodeMissingTarget, "empty", "topic"},
	{"field null in template", nil, `{"type":"join_topic","topic":null}`, router.CodeMissingTarget, `"topic"`, "topic"},
	{"user field number", nil, `{"type":"dm","to":7}`, router.CodeInvalidField, `"to" must be a string`, "to"},
	{"user field object", nil, `{"type":"dm","to":{"id":"bob"}}`, router.CodeInvalidField, `"to" must be a string`, "to"},
	{"user field absent", nil, `{"type":"dm"}`, router.CodeMissingTarget, `"to"`, "to"},
	{"user template claim absent", nil, `{"type":"dm_team","to":"bob"}`, router.CodeMissingTarget, `"team" claim`, ""},
	{"user template field number", map[string]any{"team": "red"}, `{"type":"dm_team","to":1}`, router.CodeInvalidField, "must be a string", "to"},
}

// TestTemplateMissingOffline: Router.Evaluate (what `switchboard test`
// runs) refuses a target with a missing or non-string part instead of
// rendering "team:", one room for everyone without the claim.
func TestTemplateMissingOffline(t *testing.T) {
	s := startServer(t, templateHCL)
	for _, tc := range templateCases {
		t.Run(tc.name, func(t *testing.T) {
			res := s.router.Evaluate(context.Background(), "alice", tc.claims, []byte(tc.msg))
			if res.Verdict != "reject" || res.Error == nil {
				t.Fatalf("verdict %q room %q user %q, want reject %s", res.Verdict, res.Room, res.User, tc.code)
			}
			if res.Error.Code != tc.code || !strings.Contains(res.Error.Message, tc.words) || res.Error.Field != tc.field {
				t.Fatalf("error %+v, want code %s, message with %q, field %q", res.Error, tc.code, tc.words, tc.field)
			}
		})
	}
	// Present strings still work.
	if res := s.router.Evaluate(context.Background(), "alice", map[string]any{"team": "red"}, []byte(`{"type":"join_team"}`)); res.Verdict != "join" || res.Room != "team:red" {
		t.Fatalf("join_team with team red: %+v", res)
	}
	if res := s.router.Evaluate(context.Background(), "alice", map[string]any{"team": "red"}, []byte(`{"type":"dm_team","to":"bob"}`)); res.Verdict != "deliver" || res.User != "red-bob" {
		t.Fatalf("dm_team: %+v", res)
	}
}

// TestTemplateMissingLive: the same refusals over a socket; two users
// without the claim do not end up in one room.
func TestTemplateMissingLive(t *testing.T) {
	s := startServer(t, templateHCL)
	dial := func(user string, claims map[string]any) *client {
		t.Helper()
		tok, err := router.IssueToken([]byte(testSecret), user, time.Hour, claims)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := s.dialRaw("?token="+tok, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", user, err)
		}
		cl := newClient(t, c, user)
		cl.expect("connected")
		return cl
	}
	for _, tc := range templateCases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial("alice", tc.claims)
			c.send(tc.msg)
			m := c.expect("error")
			field, _ := m["field"].(string)
			msg, _ := m["message"].(string)
			if m["code"] != tc.code || !strings.Contains(msg, tc.words) || field != tc.field {
				t.Fatalf("got %v, want code %s, message with %q, field %q", m, tc.code, tc.words, tc.field)
			}
		})
	}
	// Neither alice nor bob (no team claim) joins "team:"; carol (team red)
	// joins team:red.
	a, b := dial("alice", nil), dial("bob", map[string]any{"team": 5})
	a.send(`{"type":"join_team"}`)
	b.send(`{"type":"join_team"}`)
	a.expect("error")
	b.expect("error")
	c := dial("carol", map[string]any{"team": "red"})
	c.send(`{"type":"join_team"}`)
	if m := c.expect("room_joined"); m["roomId"] != "team:red" {
		t.Fatalf("room_joined %v", m)
	}
	a.send(`{"type":"team_say","text":"hi"}`)
	a.expect("error")
	c.expectNothing()
}
