package router

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzQuote checks what error replies quote of client input: valid JSON,
// valid UTF-8, at most maxQuoted bytes of the input (a prefix of it, cut on
// a character boundary), whatever the input; and that a parse error's
// message stays short however long the frame.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "send_message", strings.Repeat("x", 65), strings.Repeat("é", 40), "a\x00\"\\\u2028<>", "\xff\xfe", `{"type":"x","a":t` + strings.Repeat("y", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := quote(s)
		var got string
		if !utf8.ValidString(q) || json.Unmarshal([]byte(q), &got) != nil {
			t.Fatalf("quote(%q) = %q: not valid JSON", s, q)
		}
		cut := len(s) > maxQuoted
		prefix := got
		if cut {
			var ok bool
			if prefix, ok = strings.CutSuffix(got, "…"); !ok {
				t.Fatalf("quote(%q) = %q: cut without an ellipsis", s, q)
			}
		}
		limit := maxQuoted
		if !utf8.ValidString(s) {
			limit *= len("\uFFFD") // appendString makes each bad byte U+FFFD
		}
		if len(prefix) > limit {
			t.Fatalf("quote(%q) = %q: over %d bytes", s, q, maxQuoted)
		}
		if utf8.ValidString(s) {
			if !strings.HasPrefix(s, prefix) || !cut && prefix != s || cut && len(prefix) <= maxQuoted-utf8.UTFMax {
				t.Fatalf("quote(%q) = %q: not the longest prefix of the input up to %d bytes", s, q, maxQuoted)
			}
		}
		var env envelope
		defer env.release()
		if e := parseEnvelope([]byte(s), &env); e != nil && len(e.Message) > 256 {
			t.Fatalf("error message is %d bytes: %q", len(e.Message), e.Message)
		}
	})
}
