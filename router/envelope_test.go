package router

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-rt/switchboard/router/config"
)

func intp(n int) *int { return &n }

// The outbound encoder must turn any accepted envelope into valid JSON
// that carries the server's fields, whatever the client sent.
func FuzzEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"type":"send_message","roomId":"r","text":"hi"}`,
		`{"type":"x","id":"1","userId":"spoof","ts":1,"nested":{"a":[1,2,{"b":null}]}}`,
		`{"type":"x","text":"\u2028\ud800 é \" \\ </script>"}`,
		`{"type":"","id":7}`,
		`[1]`, `{"type":`, `{"type":"a","id":{}}`, "{\"type\":\"a\",\"t\":\"\x01\"}",
	} {
		f.Add([]byte(s))
	}
	schema := []*config.Field{
		{Name: "roomId", Type: config.TypeString, Required: true, MaxLength: intp(128)},
		{Name: "text", Type: config.TypeString, MaxLength: intp(2000)},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			// Text frames are UTF-8-checked by the transport (close 1007),
			// Publish and Evaluate check it themselves (checkUTF8).
			if checkUTF8(data) == nil {
				t.Fatalf("checkUTF8 accepted %q", data)
			}
			return
		}
		var env envelope
		defer env.release()
		if err := parseEnvelope(data, &env); err != nil {
			if err.Code == "" || err.Message == "" || !utf8.ValidString(err.Message) {
				t.Fatalf("unclear error %+v", err)
			}
			return
		}
		if !json.Valid(data) || env.typ == "" {
			t.Fatalf("accepted %q", data)
		}
		for _, fields := range [][]*config.Field{nil, schema} {
			_ = checkSchema(env.obj, schema)
			out := appendOutbound(nil, env.typ, env.obj, fields, "alice", 1, "n-1")
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("outbound %q is not JSON: %v", out, err)
			}
			if m["userId"] != "alice" || m["id"] != "n-1" || m["type"] != env.typ {
				t.Fatalf("outbound %s lost the server's fields", out)
			}
		}
	})
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x1f\n\t", "<&>", "é中🙂", "\u2028\u2029", "bad\xffutf8"} {
		out := appendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q -> %s: %v", s, out, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = "bad\uFFFDutf8"
		}
		if got != want {
			t.Fatalf("%q -> %s -> %q", s, out, got)
		}
	}
}

func TestEncodeFrameLengths(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		f := encodeFrame(opText, make([]byte, n))
		var hdr int
		switch {
		case n < 126:
			hdr = 2
		case n <= 65535:
			hdr = 4
		default:
			hdr = 10
		}
		if len(f) != hdr+n || f[0] != 0x81 {
			t.Fatalf("n=%d: len %d header %x", n, len(f), f[:2])
		}
		// The length as RFC 6455 encodes it, read back independently.
		var got int
		switch f[1] {
		case 126:
			got = int(binary.BigEndian.Uint16(f[2:4]))
		case 127:
			got = int(binary.BigEndian.Uint64(f[2:10]))
		default:
			got = int(f[1])
		}
		if got != n {
			t.Fatalf("n=%d: header says %d", n, got)
		}
	}
}
