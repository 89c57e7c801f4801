package sdk_test

import (
	"bytes"
	"fmt"

	"github.com/switchboard-rt/switchboard/sdk"
)

// A message handler that trims spaces in the "text" and "caption" fields
// would return sdk.Transform(out) when changed, sdk.Allow() otherwise.
func ExampleRewriteStrings() {
	env := []byte(`{"type":"send_message","text":"  hi  ","caption":"ok","text":" dup "}`)
	out, changed, err := sdk.RewriteStrings(env, []string{"text", "caption"}, func(field string, value []byte) ([]byte, bool) {
		t := bytes.TrimSpace(value)
		return t, len(t) != len(value)
	})
	fmt.Println(string(out), changed, err)
	// Output: {"type":"send_message","text":"hi","caption":"ok","text":"dup"} true <nil>
}
