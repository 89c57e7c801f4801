;; The ABI's fine print, checked against the host (abi_test.go). Chosen by
;; the route's first byte:
;;   s  "sentinel": is the last byte of the input buffer still the 0xAA init
;;      put there? (the host writes in_len bytes, nothing more) -> reject
;;      with code "ok" or "no"
;;   w  "write": leaves "remembered" in the output buffer, allows
;;   r  "recall": rejects with the output buffer's first 10 bytes as reason
;;      (the host does not touch the output buffer between calls)
;;   i  "input": rejects with the whole input, header included, as reason
;;   b  "big": a 1000-byte transform, more than out_cap: the guest grows
;;      memory, puts a new output buffer there and records it in the
;;      descriptor
;;   n  "nostring": a transform whose "type" is not a string
;; switchboard_reserve declines (returns 0) inputs over 100000 bytes, and
;; otherwise moves both buffers to fresh memory, the output as large as the
;; input.
;;
;; Nothing is aligned: the descriptor is at 17, the input buffer at 1001
;; (2000 bytes), the output buffer at 3001 (512 bytes).
(module
  (memory (export "memory") 1)

  (data (i32.const 4000) "remembered")
  (data (i32.const 4016) "{\22type\22:\22big\22,\22pad\22:\22")
  (data (i32.const 4048) "{\22type\22:7}")

  (func $desc (param $in i32) (param $inCap i32) (param $out i32) (param $outCap i32)
    (i32.store (i32.const 17) (local.get $in))
    (i32.store (i32.const 21) (local.get $inCap))
    (i32.store (i32.const 25) (local.get $out))
    (i32.store (i32.const 29) (local.get $outCap))
    (i32.store (i32.const 33) (i32.const 0)))

  (func (export "switchboard_abi_version") (result i32) (i32.const 1))

  (func (export "switchboard_init") (result i32)
    (memory.fill (i32.const 1001) (i32.const 0xAA) (i32.const 2000))
    (call $desc (i32.const 1001) (i32.const 2000) (i32.const 3001) (i32.const 512))
    (i32.const 17))

  (func (export "switchboard_reserve") (param $size i32) (result i32)
    (local $base i32)
    (if (i32.gt_u (local.get $size) (i32.const 100000)) (then (return (i32.const 0))))
    ;; four fresh pages: the input at base+3, an output buffer as large
    ;; after it
    (local.set $base (i32.mul (memory.grow (i32.const 4)) (i32.const 65536)))
    (call $desc
      (i32.add (local.get $base) (i32.const 3)) (local.get $size)
      (i32.add (local.get $base) (i32.add (local.get $size) (i32.const 5))) (local.get $size))
    (i32.const 17))

  (func (export "switchboard_on_message") (param $len i32) (result i64)
    (local $in i32) (local $out i32) (local $route i32) (local $c i32) (local $base i32)
    (local.set $in (i32.load (i32.const 17)))
    (local.set $out (i32.load (i32.const 25)))
    (local.set $route (i32.add (i32.add (local.get $in) (i32.const 24)) (i32.load (local.get $in))))
    (local.set $c (i32.load8_u (local.get $route)))

    (if (i32.eq (local.get $c) (i32.const 0x73)) ;; s
      (then
        (if (i32.eq (i32.load8_u (i32.add (local.get $in) (i32.sub (i32.load (i32.const 21)) (i32.const 1)))) (i32.const 0xAA))
          (then (i32.store16 (local.get $out) (i32.const 0x6b6f))) ;; "ok"
          (else (i32.store16 (local.get $out) (i32.const 0x6f6e)))) ;; "no"
        (return (i64.const 0x00000002_00000201))))
    (if (i32.eq (local.get $c) (i32.const 0x77)) ;; w
      (then
        (memory.copy (local.get $out) (i32.const 4000) (i32.const 10))
        (return (i64.const 0))))
    (if (i32.eq (local.get $c) (i32.const 0x72)) ;; r
      (then (return (i64.const 0x0000000a_00000001))))
    (if (i32.eq (local.get $c) (i32.const 0x69)) ;; i
      (then
        (memory.copy (local.get $out) (local.get $in) (local.get $len))
        (return (i64.or (i64.shl (i64.extend_i32_u (local.get $len)) (i64.const 32)) (i64.const 1)))))
    (if (i32.eq (local.get $c) (i32.const 0x62)) ;; b
      (then
        (local.set $base (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
        (memory.copy (local.get $base) (i32.const 4016) (i32.const 21))
        (memory.fill (i32.add (local.get $base) (i32.const 21)) (i32.const 0x78) (i32.const 977))
        (i32.store16 (i32.add (local.get $base) (i32.const 998)) (i32.const 0x7d22)) ;; "}
        (i32.store (i32.const 25) (local.get $base))
        (i32.store (i32.const 29) (i32.const 65536))
        (return (i64.const 0x000003e8_00000002))))
    (if (i32.eq (local.get $c) (i32.const 0x6e)) ;; n
      (then
        (memory.copy (local.get $out) (i32.const 4048) (i32.const 10))
        (return (i64.const 0x0000000a_00000002))))
    (i64.const 0))
)
