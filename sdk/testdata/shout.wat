;; shout.wat: a complete plugin in WebAssembly text (plugins/ABI.md).
;; It refuses messages of the route "shout" with code "loud" and allows the
;; rest, logging a line for each.
(module
  (import "switchboard" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  ;; The descriptor, 20 bytes at 16: input buffer at 1024 (31 KiB), output
  ;; buffer at 32768 (1 KiB), no init error.
  (data (i32.const 16) "\00\04\00\00" "\00\7c\00\00" "\00\80\00\00" "\00\04\00\00" "\00\00\00\00")
  (data (i32.const 64) "shout")
  (data (i32.const 80) "checked a message")
  ;; The host never writes the output buffer: a reject's code and reason
  ;; can sit there from the start.
  (data (i32.const 32768) "loudplease lower your voice")

  (func (export "switchboard_abi_version") (result i32) (i32.const 1))
  (func (export "switchboard_init") (result i32) (i32.const 16))
  ;; 31 KiB is enough here: 0 says "cannot grow", and a larger input fails.
  (func (export "switchboard_reserve") (param i32) (result i32) (i32.const 0))

  (func (export "switchboard_on_message") (param $len i32) (result i64)
    (local $route i32)
    (call $log (i32.const 0) (i32.const 80) (i32.const 17)) ;; info
    ;; The route follows the 24-byte header and the envelope.
    (local.set $route (i32.add (i32.const 1048) (i32.load (i32.const 1024))))
    (if (i32.and
          (i32.eq (i32.load (i32.const 1028)) (i32.const 5)) ;; route_len
          (i32.and ;; no alignment needed: the route starts anywhere
            (i32.eq (i32.load (local.get $route)) (i32.load (i32.const 64)))
            (i32.eq (i32.load8_u offset=4 (local.get $route)) (i32.load8_u (i32.const 68)))))
      (then
        ;; reject (1), code_len 4, out_len 27: "loud" + the reason
        (return (i64.const 0x0000001b_00000401))))
    (i64.const 0)) ;; allow
)
