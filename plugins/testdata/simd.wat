;; A plugin using a SIMD instruction (WebAssembly 2.0), which the host's
;; module rewriting does not know: it loads with wazero's own time limit
;; instead (ABI.md, "WebAssembly features") and runs. Allows every message.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "\00\04\00\00" "\00\7c\00\00" "\00\80\00\00" "\00\04\00\00" "\00\00\00\00")
  (func (export "switchboard_abi_version") (result i32) (i32.const 1))
  (func (export "switchboard_init") (result i32) (i32.const 16))
  (func (export "switchboard_reserve") (param i32) (result i32) (i32.const 0))
  (func (export "switchboard_on_message") (param i32) (result i64)
    (if (i32.ne (i32x4.extract_lane 2 (i32x4.splat (i32.const 7))) (i32.const 7))
      (then unreachable))
    (i64.const 0))
)
