;; A plugin that speaks an ABI version this host does not.
(module
  (memory (export "memory") 1)
  (func (export "switchboard_abi_version") (result i32) (i32.const 2))
  (func (export "switchboard_init") (result i32) (i32.const 0))
  (func (export "switchboard_reserve") (param i32) (result i32) (i32.const 0))
  (func (export "switchboard_on_message") (param i32) (result i64) (i64.const 0)))
