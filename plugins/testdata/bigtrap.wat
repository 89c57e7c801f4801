;; A plugin whose switchboard_reserve traps when asked for more than its
;; 4 KiB input buffer: a fault any client can trigger with a padded frame,
;; for the circuit breaker's tests. On route "secret" it rejects with code
;; "blocked" (so a test sees that the plugin checked a message); it allows
;; everything else.
;;
;; Memory: "blocked" at 0, "secret" at 8, the descriptor at 1024, the
;; output buffer at 2048 (2 KiB), the input buffer at 4096 (4 KiB).
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "blocked")
  (data (i32.const 8) "secret")

  (func (export "switchboard_abi_version") (result i32) (i32.const 1))

  (func $desc (result i32)
    (i32.store (i32.const 1024) (i32.const 4096))
    (i32.store offset=4 (i32.const 1024) (i32.const 4096))
    (i32.store offset=8 (i32.const 1024) (i32.const 2048))
    (i32.store offset=12 (i32.const 1024) (i32.const 2048))
    (i32.store offset=16 (i32.const 1024) (i32.const 0))
    (i32.const 1024))

  (func (export "switchboard_init") (result i32) (call $desc))

  (func (export "switchboard_reserve") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 4096)) (then (unreachable)))
    (call $desc))

  ;; The input starts with six u32 lengths (envelope, route, ...), then the
  ;; fields in that order: the route follows the envelope.
  (func (export "switchboard_on_message") (param $inLen i32) (result i64)
    (local $route i32)
    (local.set $route (i32.add (i32.const 4120) (i32.load (i32.const 4096))))
    (if (i32.and
          (i32.eq (i32.load offset=4 (i32.const 4096)) (i32.const 6))
          (i32.and
            (i32.eq (i32.load (local.get $route)) (i32.load (i32.const 8)))
            (i32.eq (i32.load16_u offset=4 (local.get $route)) (i32.load16_u (i32.const 12)))))
      (then
        ;; reject, code "blocked" (7 bytes), no reason
        (memory.copy (i32.const 2048) (i32.const 0) (i32.const 7))
        (return (i64.const 0x0000000700000701))))
    (i64.const 0))
)
