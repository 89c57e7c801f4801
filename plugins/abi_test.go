package plugins

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-rt/switchboard/router/config"
)

// Tests of ABI.md's fine print, against testdata/abi.wat: each names the
// section it checks.

func abiMsg(route, envelope string) *MessageInput {
	return &MessageInput{Envelope: []byte(envelope), Route: route, UserID: "u", ConnID: "c", RemoteAddr: "192.0.2.1:5555"}
}

// "Alignment" and "Buffers": nothing is aligned; the host writes in_len
// bytes of the input buffer and nothing else, so the guest's bytes after
// them and in the output buffer stay as it left them.
func TestABIBuffers(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "abi", "testdata/abi.wat", nil, nil)
	want := func(route string, v Verdict) {
		t.Helper()
		if got := p.HandleMessage(ctx, abiMsg(route, `{"type":"`+route+`"}`)); !reflect.DeepEqual(got, v) {
			t.Errorf("%s: got %+v, want %+v", route, got, v)
		}
	}
	want("sentinel", Verdict{Action: Reject, Code: "ok"})
	want("write", Verdict{Action: Allow})
	want("recall", Verdict{Action: Reject, Code: "rejected", Reason: "remembered"})
	want("sentinel", Verdict{Action: Reject, Code: "ok"})
	if f := p.Stats().Failures.Total(); f != 0 {
		t.Fatalf("%d failures", f)
	}
}

// "Message input": the exact bytes, with an anonymous user id, no claims
// (zero length), an IPv6 address and the client's envelope byte for byte
// (spaces and key order kept).
func TestABIMessageInputBytes(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "abi", "testdata/abi.wat", nil, nil)
	in := &MessageInput{
		Envelope:   []byte(`{ "type":"input", "b":1,"a":"\u00e9" }`),
		Route:      "input",
		UserID:     "anon-q4ovkbcrw7ktbzgx",
		ConnID:     "c1",
		RemoteAddr: "[2001:db8::1]:443",
	}
	want := "\x26\x00\x00\x00" + "\x05\x00\x00\x00" + "\x15\x00\x00\x00" + "\x00\x00\x00\x00" + "\x02\x00\x00\x00" + "\x11\x00\x00\x00" +
		`{ "type":"input", "b":1,"a":"\u00e9" }` + "input" + "anon-q4ovkbcrw7ktbzgx" + "" + "c1" + "[2001:db8::1]:443"
	v := p.HandleMessage(ctx, in)
	if v.Action != Reject || v.Reason != want {
		t.Fatalf("got %+v\nwant reason %q", v, want)
	}
	in.Claims = []byte(`{"sub":"bob","exp":1700000000,"roles":["a"]}`)
	want = strings.Replace(want, "\x00\x00\x00\x00\x02", "\x2c\x00\x00\x00\x02", 1)
	want = strings.Replace(want, "gx"+"c1", "gx"+string(in.Claims)+"c1", 1)
	if v := p.HandleMessage(ctx, in); v.Reason != want {
		t.Fatalf("with claims: got %q\nwant %q", v.Reason, want)
	}
}

// "Output larger than out_cap": a guest that puts a larger output buffer
// in its descriptor during the call is read from there.
func TestABIOutputGrows(t *testing.T) {
	h, _ := newHost(t, enforceStop)
	p := load(t, h, "abi", "testdata/abi.wat", nil, nil)
	v := p.HandleMessage(ctx, abiMsg("big", `{"type":"big"}`))
	want := `{"type":"big","pad":"` + strings.Repeat("x", 977) + `"}`
	if v.Action != Transform || string(v.Payload) != want {
		t.Fatalf("got %v %d bytes: %.60s", v.Action, len(v.Payload), v.Payload)
	}
	// The new buffer stays: the next calls use it.
	for _, r := range []string{"write", "recall"} {
		p.HandleMessage(ctx, abiMsg(r, `{"type":"x"}`))
	}
	if v := p.HandleMessage(ctx, abiMsg("recall", `{"type":"x"}`)); v.Reason != "remembered" {
		t.Fatalf("after growing: %+v", v)
	}
	if f := p.Stats().Failures.Total(); f != 0 {
		t.Fatalf("%d failures", f)
	}
}

// "switchboard_reserve": it may move both buffers; returning 0 declines
// the input, which the sender gets as a reject with code too_large, whatever
// on_error says, and which is no failure: the instance is kept.
func TestABIReserve(t *testing.T) {
	h, logs := newHost(t, enforceStop)
	lenient := load(t, h, "abi", "testdata/abi.wat", nil, func(pc *Spec) { pc.OnError = "allow" })
	// 4976 bytes (0x1370): each byte of the header is ASCII, so the input
	// is a valid reject reason.
	big := `{"type":"input","text":"` + strings.Repeat("y", 4950) + `"}`
	v := lenient.HandleMessage(ctx, abiMsg("input", big))
	if v.Action != Reject || !bytes.Contains([]byte(v.Reason), []byte(big)) {
		t.Fatalf("moved buffers: got %v %.80q", v.Action, v.Reason)
	}
	huge := `{"type":"x","text":"` + strings.Repeat("y", 100<<10) + `"}`
	size := 24 + len(huge) + len("x") + len("u") + len("c") + len("192.0.2.1:5555")
	want := Verdict{Action: Reject, Code: CodeTooLarge, Reason: fmt.Sprintf("the message is too large to be checked (%d bytes)", size)}
	for range 3 {
		if v := lenient.HandleMessage(ctx, abiMsg("x", huge)); !reflect.DeepEqual(v, want) {
			t.Fatalf("declined input with on_error = allow: got %+v, want %+v", v, want)
		}
	}
	s := lenient.Stats()
	if s.Failures.Total() != 0 || s.Instances != 1 {
		t.Fatalf("a declined input counted as a failure or cost the instance: %+v", s)
	}
	if !strings.Contains(logs.String(), "input refused as too large") {
		t.Errorf("not logged:\n%s", logs)
	}
	// Still working, buffers where reserve put them.
	if v := lenient.HandleMessage(ctx, abiMsg("sentinel", `{"type":"s"}`)); v.Action != Reject {
		t.Fatalf("after declining: %+v", v)
	}
}

// "log": a message outside memory traps at every level, logged or not.
func TestABILogBoundsAtEveryLevel(t *testing.T) {
	h, logs := newHost(t, enforceStop)
	p := load(t, h, "conf", "testdata/conformance.wat", nil, nil)
	_ = logs
	// The host's check, not the logger's: call it as the guest would.
	for _, level := range []int32{-8, 0, 12} {
		inst, err := p.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		panicked := func() (r any) {
			defer func() { r = recover() }()
			p.hostLog(inst.ctx, inst.mod, []uint64{uint64(uint32(level)), 1 << 31, 16})
			return nil
		}()
		p.release(inst)
		if panicked == nil {
			t.Errorf("level %d: a message outside memory did not trap", level)
		}
	}
}

// "The config JSON": the plugin block's config as encoding/json writes the
// decoded HCL: keys sorted, numbers as float64 (integers without exponent
// below 1e21), HTML characters escaped, {} without a config.
func TestABIConfigJSON(t *testing.T) {
	src := []byte(`
plugin "conf" {
  source = "x.wasm"
  config = { z = 1e21, a = 0.1, n = 1000000, big = 9007199254740993, s = "é<&>", l = [true, null], o = {} }
}
`)
	cfg, err := config.Parse(src, "abi.hcl")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHost(t, enforceStop)
	for _, c := range []struct {
		cfg  map[string]any
		want string
	}{
		{cfg.Plugins[0].Config, `{"a":0.1,"big":9007199254740992,"l":[true,null],"n":1000000,"o":{},"s":"é\u003c\u0026\u003e","z":1e+21}`},
		{nil, `{}`},
		{map[string]any{}, `{}`},
	} {
		p := load(t, h, "conf", "testdata/conformance.wat", c.cfg, nil)
		if v := p.HandleMessage(ctx, msg("config")); string(v.Payload) != c.want {
			t.Errorf("config %v: got %s, want %s", c.cfg, v.Payload, c.want)
		}
	}
}

// "count": names of 1 to 128 bytes, any delta; another name past the 256th
// is dropped with a warning, not a trap; an empty or longer name traps.
func TestABICountEdges(t *testing.T) {
	h, logs := newHost(t, enforceStop)
	p := load(t, h, "conf", "testdata/conformance.wat", nil, nil)
	inst, err := p.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.release(inst)
	name := func(s string) []uint64 {
		if !inst.mem.Write(60000, []byte(s)) {
			t.Fatal("write")
		}
		return []uint64{60000, uint64(len(s)), 0}
	}
	count := func(s string, delta int64) (trapped bool) {
		defer func() { trapped = recover() != nil }()
		stack := name(s)
		stack[2] = uint64(delta)
		p.hostCount(inst.ctx, inst.mod, stack)
		return false
	}
	if !count("", 1) || !count(strings.Repeat("n", 129), 1) {
		t.Error("an empty name or one of 129 bytes did not trap")
	}
	if count(strings.Repeat("n", 128), -5) || count("zero", 0) {
		t.Error("a 128-byte name or a zero delta trapped")
	}
	for i := range 300 {
		if count(fmt.Sprintf("c%d", i), 1) {
			t.Fatalf("counter %d trapped", i)
		}
	}
	st := p.Stats().Counters
	if st[strings.Repeat("n", 128)] != -5 || len(st) != 256 || st["c299"] != 0 {
		t.Errorf("%d counters, 128-byte one %d", len(st), st[strings.Repeat("n", 128)])
	}
	if !strings.Contains(logs.String(), "too many distinct counters") {
		t.Error("dropped counter not logged")
	}
}

// "WebAssembly features": a module using SIMD, which the host's rewriting
// does not know, still loads (timed by wazero instead, with a warning)
// and runs.
func TestABISIMDFallsBack(t *testing.T) {
	h, logs := newHost(t, enforceStop)
	p := load(t, h, "simd", "testdata/simd.wat", nil, nil)
	if v := p.HandleMessage(ctx, msg("x")); v.Action != Allow || p.Stats().Failures.Total() != 0 {
		t.Fatalf("got %+v", v)
	}
	if !strings.Contains(logs.String(), "cannot inject timeout checks") {
		t.Errorf("no fallback warning:\n%s", logs)
	}
}
