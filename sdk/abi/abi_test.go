package abi

import (
	"bytes"
	"testing"
)

func TestPackUnpack(t *testing.T) {
	for _, c := range []struct {
		a               Action
		codeLen, outLen uint32
	}{{Allow, 0, 0}, {Reject, 255, 300}, {Transform, 0, 1 << 31}, {Reroute, 0, 10}} {
		a, code, out, ok := Unpack(Pack(c.a, c.codeLen, c.outLen))
		if !ok || a != c.a || code != c.codeLen || out != c.outLen {
			t.Errorf("%+v: got %v %d %d %v", c, a, code, out, ok)
		}
	}
	if _, _, _, ok := Unpack(5); ok {
		t.Error("action 5 accepted")
	}
	if _, _, _, ok := Unpack(1 << 20); ok {
		t.Error("reserved bit accepted")
	}
}

func TestMessageRoundTrip(t *testing.T) {
	env, claims := []byte(`{"type":"x"}`), []byte(`{"r":1}`)
	buf := make([]byte, MessageSize(len(env), 5, 2, len(claims), 3, 9))
	if n := PutMessage(buf, env, "route", "u1", claims, "c-1", "127.0.0.1"); n != len(buf) {
		t.Fatalf("wrote %d of %d", n, len(buf))
	}
	m, ok := ParseMessage(buf)
	if !ok || !bytes.Equal(m.Envelope, env) || string(m.Route) != "route" || string(m.UserID) != "u1" ||
		!bytes.Equal(m.Claims, claims) || string(m.ConnID) != "c-1" || string(m.RemoteAddr) != "127.0.0.1" {
		t.Fatalf("got %+v, %v", m, ok)
	}
	if _, ok := ParseMessage(buf[:len(buf)-1]); ok {
		t.Error("truncated input accepted")
	}
}
