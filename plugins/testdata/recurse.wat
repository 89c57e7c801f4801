;; A plugin whose work has no loops at all, only calls: for the bounds that
;; hold whatever a guest's control flow (issue 9 item 1). The route name
;; picks the work:
;;
;;   "binary"   f(28), f(n) = f(n-1) + f(n-1): 2^28 calls, depth 28
;;   "mutual"   a(9): a calls b ten times, b calls a ten times: 10^9 calls
;;   "endless"  a(15): 10^15 calls, for hours
;;   "overflow" g(0), g(n) = g(n+1) + 1: unbounded self-recursion
;;   "deep"     f(12) and a recursion 1000 deep: legitimate recursion, allowed
;;   "fail"     traps (unreachable): for the circuit breaker
;;   otherwise  allows
;;
;; Memory: the descriptor at 1024, the output buffer at 2048, the input
;; buffer at 4096 (to 65536, grown by switchboard_reserve).
(module
  (memory (export "memory") 1)
  (global $inCap (mut i32) (i32.const 61440))

  (func (export "switchboard_abi_version") (result i32) (i32.const 1))

  (func $desc (result i32)
    (i32.store (i32.const 1024) (i32.const 4096))
    (i32.store offset=4 (i32.const 1024) (global.get $inCap))
    (i32.store offset=8 (i32.const 1024) (i32.const 2048))
    (i32.store offset=12 (i32.const 1024) (i32.const 2048))
    (i32.store offset=16 (i32.const 1024) (i32.const 0))
    (i32.const 1024))

  (func (export "switchboard_init") (result i32) (call $desc))

  (func (export "switchboard_reserve") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (global.get $inCap))
      (then
        (if (i32.eq (memory.grow (i32.shr_u (i32.add (local.get $size) (i32.const 65535)) (i32.const 16))) (i32.const -1))
          (then (return (i32.const 0))))
        (global.set $inCap (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 4096)))))
    (call $desc))

  (func $f (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else (i32.add
        (call $f (i32.sub (local.get $n) (i32.const 1)))
        (call $f (i32.sub (local.get $n) (i32.const 1)))))))

  (func $a (param $n i32) (result i32)
    (local $m i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
    (local.set $m (i32.sub (local.get $n) (i32.const 1)))
    (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add
      (call $b (local.get $m)) (call $b (local.get $m))) (call $b (local.get $m)))
      (call $b (local.get $m))) (call $b (local.get $m))) (call $b (local.get $m)))
      (call $b (local.get $m))) (call $b (local.get $m))) (call $b (local.get $m)))
      (call $b (local.get $m))))

  (func $b (param $n i32) (result i32)
    (local $m i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
    (local.set $m (i32.sub (local.get $n) (i32.const 1)))
    (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add
      (call $a (local.get $m)) (call $a (local.get $m))) (call $a (local.get $m)))
      (call $a (local.get $m))) (call $a (local.get $m))) (call $a (local.get $m)))
      (call $a (local.get $m))) (call $a (local.get $m))) (call $a (local.get $m)))
      (call $a (local.get $m))))

  (func $g (param $n i32) (result i32)
    (i32.add (call $g (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))

  ;; $down recurses n deep, leaving through br to its own label on the way
  ;; back: the depth it takes must be given back on every exit.
  (func $down (param $n i32) (result i32)
    (if (i32.eqz (local.get $n)) (then (br 1 (i32.const 0))))
    (i32.add (call $down (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))

  ;; $pair recurses n deep and returns (n, 1): with two results and a
  ;; param, the block wrapping its body needs a type of its own.
  (func $pair (param $n i32) (result i32 i32)
    (local $a i32) (local $b i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0) (i32.const 1))))
    (call $pair (i32.sub (local.get $n) (i32.const 1)))
    (local.set $b)
    (local.set $a)
    (i32.add (local.get $a) (i32.const 1))
    (local.get $b))

  ;; The route's first byte chooses (see above).
  (func (export "switchboard_on_message") (param $inLen i32) (result i64)
    (local $route i32) (local $c i32)
    ;; the route follows the envelope: IN + 24 + envLen
    (local.set $route (i32.add (i32.add (i32.const 4096) (i32.const 24)) (i32.load (i32.const 4096))))
    (local.set $c (i32.load8_u (local.get $route)))
    (if (i32.eq (local.get $c) (i32.const 98)) ;; b
      (then (drop (call $f (i32.const 28)))))
    (if (i32.eq (local.get $c) (i32.const 109)) ;; m
      (then (drop (call $a (i32.const 9)))))
    (if (i32.eq (local.get $c) (i32.const 101)) ;; e
      (then (drop (call $a (i32.const 15)))))
    (if (i32.eq (local.get $c) (i32.const 111)) ;; o
      (then (drop (call $g (i32.const 0)))))
    (if (i32.eq (local.get $c) (i32.const 100)) ;; d
      (then
        (if (i32.ne (call $f (i32.const 12)) (i32.const 4096)) (then unreachable))
        ;; many times, so that a depth leaked on some exit would add up
        (if (i32.ne (call $down (i32.const 1000)) (i32.const 1000)) (then unreachable))
        (if (i32.ne (call $down (i32.const 1000)) (i32.const 1000)) (then unreachable))
        (if (i32.ne (call $down (i32.const 1000)) (i32.const 1000)) (then unreachable))
        i32.const 500
        call $pair
        i32.const 1
        i32.ne
        if
          unreachable
        end
        i32.const 500
        i32.ne
        if
          unreachable
        end))
    (if (i32.eq (local.get $c) (i32.const 102)) ;; f
      (then unreachable))
    (i64.const 0))
)
