package sdk

import (
	"encoding/json"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// A plugin must read the values the host delivers: for any envelope the
// host accepts (I-JSON: no duplicate names, no lone surrogates), every
// top-level string field a plugin reads with String equals what
// encoding/json decodes, whatever escapes the sender used.
func FuzzStringMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"send_message","roomId":"r","text":"x\u0007y","id":"x\u0007y"}`,
		`{"type":"x","te\u0078t":"\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","k\u0000":"\u00e9"}`,
		`{"type":"x","nested":{"text":"inner"},"text":"outer","arr":["\"]",{"text":1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !jsontext.Value(data).IsValid() {
			return // the host refuses it: no plugin sees it
		}
		var top map[string]any
		if json.Unmarshal(data, &top) != nil {
			return // not an object
		}
		m := message(string(data))
		for k, v := range top {
			s, isString := v.(string)
			got, ok := m.String(k)
			if ok != isString || got != s {
				t.Fatalf("%s: String(%q) = %q, %v; encoding/json: %#v", data, k, got, ok, v)
			}
		}
	})
}
