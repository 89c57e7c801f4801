package plugins

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

func TestDecodeVerdict(t *testing.T) {
	cases := []struct {
		name   string
		result uint64
		out    string
		want   Verdict
		bad    bool
	}{
		{"allow", abi.Pack(abi.Allow, 0, 0), "", Verdict{Action: Allow}, false},
		{"drop", abi.Pack(abi.Drop, 0, 0), "", Verdict{Action: Drop}, false},
		{"reject", abi.Pack(abi.Reject, 4, 9), "too_long!", Verdict{Action: Reject, Code: "too_", Reason: "long!"}, false},
		{"reject without code", abi.Pack(abi.Reject, 0, 2), "no", Verdict{Action: Reject, Code: "rejected", Reason: "no"}, false},
		{"transform", abi.Pack(abi.Transform, 0, 9), ` {"a":1} `, Verdict{Action: Transform, Payload: []byte(` {"a":1} `)}, false},
		{"reroute room", abi.Pack(abi.Reroute, 0, 6), "room:x", Verdict{Action: Reroute, Target: "room:x"}, false},
		{"reroute sender", abi.Pack(abi.Reroute, 0, 6), "sender", Verdict{Action: Reroute, Target: "sender"}, false},
		{"unknown action", 9, "", Verdict{}, true},
		{"reserved bits", abi.Pack(abi.Allow, 0, 0) | 1<<16, "", Verdict{}, true},
		{"code longer than output", abi.Pack(abi.Reject, 3, 2), "abc", Verdict{}, true},
		{"output past buffer", abi.Pack(abi.Transform, 0, 100), "{}", Verdict{}, true},
		{"allow with output", abi.Pack(abi.Allow, 0, 2), "{}", Verdict{}, true},
		{"transform with code", abi.Pack(abi.Transform, 1, 3), "x{}", Verdict{}, true},
		{"transform not an object", abi.Pack(abi.Transform, 0, 3), "[1]", Verdict{}, true},
		{"transform not JSON", abi.Pack(abi.Transform, 0, 2), "{x", Verdict{}, true},
		{"empty transform", abi.Pack(abi.Transform, 0, 0), "", Verdict{}, true},
		{"bad code", abi.Pack(abi.Reject, 3, 3), `a"b`, Verdict{}, true},
		{"reason not UTF-8", abi.Pack(abi.Reject, 0, 1), "\xff", Verdict{}, true},
		{"reroute nowhere", abi.Pack(abi.Reroute, 0, 5), "room:", Verdict{}, true},
		{"reroute unknown", abi.Pack(abi.Reroute, 0, 4), "moon", Verdict{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeVerdict(c.result, []byte(c.out))
			if c.bad {
				if !errors.Is(err, errMalformed) {
					t.Fatalf("got %+v, %v; want a malformed error", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// FuzzDecodeVerdict: whatever a guest returns, decoding never panics, and
// what it accepts satisfies the ABI's rules.
func FuzzDecodeVerdict(f *testing.F) {
	f.Add(abi.Pack(abi.Allow, 0, 0), []byte{})
	f.Add(abi.Pack(abi.Reject, 7, 12), []byte("blockedno way"))
	f.Add(abi.Pack(abi.Transform, 0, 7), []byte(`{"a":1}`))
	f.Add(abi.Pack(abi.Reroute, 0, 10), []byte("room:lobby"))
	f.Fuzz(func(t *testing.T, result uint64, out []byte) {
		// The connect decoder reads the same results from the same memory.
		if cv, err := DecodeConnectVerdict(result, out); err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("connect: error is not errMalformed: %v", err)
			}
		} else if cv.Accept == (cv.Code != "") || !cv.Accept && !utf8.ValidString(cv.Reason) {
			t.Fatalf("connect: inconsistent verdict %+v", cv)
		}
		v, err := DecodeVerdict(result, out)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error is not errMalformed: %v", err)
			}
			return
		}
		if v.Action > Reroute {
			t.Fatalf("action %d", v.Action)
		}
		switch v.Action {
		case Allow, Drop:
			if v.Code != "" || v.Reason != "" || v.Payload != nil || v.Target != "" {
				t.Fatalf("%v with data: %+v", v.Action, v)
			}
		case Reject:
			if v.Code == "" || !utf8.ValidString(v.Reason) {
				t.Fatalf("reject: %+v", v)
			}
		case Transform:
			var obj map[string]any
			if json.Unmarshal(v.Payload, &obj) != nil {
				t.Fatalf("transform payload is not an object: %q", v.Payload)
			}
			if len(out) > 0 && len(v.Payload) > 0 && &v.Payload[0] == &out[0] {
				t.Fatal("payload aliases guest memory")
			}
		case Reroute:
			if v.Target == "" {
				t.Fatal("reroute without target")
			}
		}
	})
}
