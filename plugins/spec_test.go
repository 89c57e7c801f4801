package plugins

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSpecWasm: a Spec with the module's bytes loads without a file;
// Source then only names it.
func TestSpecWasm(t *testing.T) {
	bin, err := os.ReadFile(wasm(t, "testdata/conformance.wat"))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHost(t, enforceStop)
	missing := filepath.Join(t.TempDir(), "missing.wasm")
	p := load(t, h, "bytes", "testdata/conformance.wat", nil, func(s *Spec) { s.Source, s.Wasm = missing, bin })
	if v := p.HandleMessage(ctx, msg("config")); string(v.Payload) != `{}` {
		t.Fatalf("got %+v, want the config {}", v)
	}
	if _, err := h.Load(ctx, &Spec{Name: "nofile", Source: missing}); err == nil {
		t.Fatal("a Spec without Wasm and no file loaded")
	}
}
