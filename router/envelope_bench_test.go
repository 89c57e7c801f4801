package router

import (
	"testing"

	"github.com/switchboard-rt/switchboard/router/config"
)

// BenchmarkEnvelope is the per-message work before fan-out: check and parse
// a chat frame, apply the schema, encode the outbound message once.
func BenchmarkEnvelope(b *testing.B) {
	n := 128
	schema := []*config.Field{
		{Name: "roomId", Type: config.TypeString, Required: true, MaxLength: &n},
		{Name: "text", Type: config.TypeString, Required: true, MaxLength: &n},
		{Name: "replyTo", Type: config.TypeString, MaxLength: &n},
	}
	for _, bc := range []struct {
		name   string
		msg    string
		schema []*config.Field
	}{
		{"schema", `{"type":"send_message","roomId":"lobby","text":"hello there, how is everyone doing today? caf\u00e9","replyTo":"m-123","id":"c-42"}`, schema},
		{"noschema", `{"type":"chat","roomId":"lobby","text":"hello there","meta":{"tags":["a","b"],"n":12.5,"ok":true},"id":7}`, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			msg := []byte(bc.msg)
			buf := make([]byte, 0, 512)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				var env envelope
				if err := parseEnvelope(msg, &env); err != nil {
					b.Fatal(err)
				}
				if bc.schema != nil {
					if err := checkSchema(env.obj, bc.schema); err != nil {
						b.Fatal(err)
					}
				}
				buf = appendOutbound(buf[:0], "message_received", env.obj, bc.schema, "alice", 1, "n-1")
				env.release()
			}
		})
	}
}
