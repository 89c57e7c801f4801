package plugins

import (
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
)

// FuzzInjectStop: the rewriter never panics on any input, and whenever
// wazero accepts a module, it accepts the rewritten module too (the checks,
// the wrapper blocks, the added types, globals, locals and exports keep it
// valid). Seeds: the test guests, including recursion, multi-value and a
// branch to a function's label (testdata/recurse.wat).
func FuzzInjectStop(f *testing.F) {
	for _, src := range []string{"testdata/recurse.wat", "testdata/conformance.wat", "testdata/noexports.wat"} {
		bin, err := os.ReadFile(wasm(f, src))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bin)
	}
	rt := wazero.NewRuntime(ctx)
	f.Cleanup(func() { rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, bin []byte) {
		inj, err := injectStop(bin)
		if err != nil {
			return
		}
		mod, err := rt.CompileModule(ctx, bin)
		if err != nil {
			return
		}
		mod.Close(ctx)
		mod, err = rt.CompileModule(ctx, inj.bin)
		if err != nil {
			t.Fatalf("the rewrite of a valid module is invalid: %v", err)
		}
		mod.Close(ctx)
	})
}
