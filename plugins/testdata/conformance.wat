;; A Switchboard plugin written by hand: the proof that the ABI (plugins/ABI.md)
;; is language-neutral. It behaves like ./goguest, chosen by the route name:
;; the conformance tests run both. Routes "trap", "loop", "grow", "exit",
;; "bad" and "big" fail on purpose. "stall" and "spinlog" are for the timeout
;; tests (plugins_test.go): they loop, calling log, whose handler the test
;; makes slow. The config {"spin":true} makes init loop forever.
;;
;; Memory: strings at 0, the descriptor at 1024, the output buffer at 2048
;; (to 65536), the input buffer at 65536 (grown by switchboard_reserve).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "switchboard" "log" (func $log (param i32 i32 i32)))
  (import "switchboard" "config" (func $config (param i32 i32) (result i32)))
  (import "switchboard" "count" (func $count (param i32 i32 i64)))
  (import "switchboard" "now" (func $now (result i64)))

  (memory (export "memory") 2)

  (global $DESC i32 (i32.const 1024))
  (global $OUT i32 (i32.const 2048))
  (global $OUTCAP i32 (i32.const 63488))
  (global $IN i32 (i32.const 65536))
  (global $inCap (mut i32) (i32.const 65536))

  (data (i32.const 0) "allow")
  (data (i32.const 8) "block")
  (data (i32.const 16) "echo")
  (data (i32.const 24) "claims")
  (data (i32.const 32) "conn")
  (data (i32.const 40) "remote")
  (data (i32.const 48) "drop")
  (data (i32.const 56) "move")
  (data (i32.const 64) "config")
  (data (i32.const 72) "log")
  (data (i32.const 80) "count")
  (data (i32.const 88) "trap")
  (data (i32.const 96) "loop")
  (data (i32.const 104) "grow")
  (data (i32.const 112) "exit")
  (data (i32.const 120) "bad")
  (data (i32.const 128) "big")
  (data (i32.const 136) "blocked")
  (data (i32.const 144) "room:lobby")
  (data (i32.const 160) "hello from the guest")
  (data (i32.const 184) "seen")
  (data (i32.const 192) "{\22reject\22:true}")
  (data (i32.const 224) "config says reject")
  (data (i32.const 248) "clock")
  (data (i32.const 256) "stall")
  (data (i32.const 264) "spinlog")
  (data (i32.const 272) "{\22spin\22:true}")

  (func (export "switchboard_abi_version") (result i32) (i32.const 1))

  ;; $eq compares n bytes at p with the string (s, sn).
  (func $eq (param $p i32) (param $n i32) (param $s i32) (param $sn i32) (result i32)
    (if (i32.ne (local.get $n) (local.get $sn)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.ne (i32.load8_u (local.get $p)) (i32.load8_u (local.get $s)))
          (then (return (i32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  (func $desc (param $errLen i32) (result i32)
    (i32.store (global.get $DESC) (global.get $IN))
    (i32.store offset=4 (global.get $DESC) (global.get $inCap))
    (i32.store offset=8 (global.get $DESC) (global.get $OUT))
    (i32.store offset=12 (global.get $DESC) (global.get $OUTCAP))
    (i32.store offset=16 (global.get $DESC) (local.get $errLen))
    (global.get $DESC))

  (func (export "switchboard_init") (result i32)
    (local $n i32)
    ;; Read the config into the output buffer; {"reject":true} fails init.
    (local.set $n (call $config (global.get $OUT) (global.get $OUTCAP)))
    ;; {"spin":true} never returns: for the init time limit.
    (if (call $eq (global.get $OUT) (local.get $n) (i32.const 272) (i32.const 13))
      (then (loop $forever (br $forever))))
    (if (call $eq (global.get $OUT) (local.get $n) (i32.const 192) (i32.const 15))
      (then
        (memory.copy (global.get $OUT) (i32.const 224) (i32.const 18))
        (return (call $desc (i32.const 18)))))
    (call $desc (i32.const 0)))

  (func (export "switchboard_reserve") (param $size i32) (result i32)
    (local $need i32)
    (if (i32.gt_u (local.get $size) (global.get $inCap))
      (then
        ;; pages needed for IN+size, minus the pages we have
        (local.set $need (i32.sub
          (i32.shr_u (i32.add (i32.add (global.get $IN) (local.get $size)) (i32.const 65535)) (i32.const 16))
          (memory.size)))
        (if (i32.eq (memory.grow (local.get $need)) (i32.const -1))
          (then (return (i32.const 0))))
        (global.set $inCap (i32.sub (i32.shl (memory.size) (i32.const 16)) (global.get $IN)))))
    (call $desc (i32.const 0)))

  ;; result = action | code_len<<8 | out_len<<32
  (func $pack (param $action i32) (param $codeLen i32) (param $outLen i32) (result i64)
    (i64.or
      (i64.extend_i32_u (i32.or (local.get $action) (i32.shl (local.get $codeLen) (i32.const 8))))
      (i64.shl (i64.extend_i32_u (local.get $outLen)) (i64.const 32))))

  (func $reject (param $code i32) (param $codeLen i32) (param $text i32) (param $textLen i32) (result i64)
    (memory.copy (global.get $OUT) (local.get $code) (local.get $codeLen))
    (memory.copy (i32.add (global.get $OUT) (local.get $codeLen)) (local.get $text) (local.get $textLen))
    (call $pack (i32.const 1) (local.get $codeLen) (i32.add (local.get $codeLen) (local.get $textLen))))

  (func $output (param $action i32) (param $p i32) (param $n i32) (result i64)
    (memory.copy (global.get $OUT) (local.get $p) (local.get $n))
    (call $pack (local.get $action) (i32.const 0) (local.get $n)))

  (func (export "switchboard_on_message") (param $inLen i32) (result i64)
    (local $env i32) (local $route i32) (local $user i32) (local $claims i32) (local $conn i32) (local $remote i32)
    (local $routeLen i32) (local $userLen i32) (local $claimsLen i32) (local $connLen i32) (local $remoteLen i32)
    (local $envLen i32) (local $i i32)
    ;; the header: six u32 lengths, then the fields in the same order
    (local.set $envLen (i32.load (global.get $IN)))
    (local.set $routeLen (i32.load offset=4 (global.get $IN)))
    (local.set $userLen (i32.load offset=8 (global.get $IN)))
    (local.set $claimsLen (i32.load offset=12 (global.get $IN)))
    (local.set $connLen (i32.load offset=16 (global.get $IN)))
    (local.set $remoteLen (i32.load offset=20 (global.get $IN)))
    (local.set $env (i32.add (global.get $IN) (i32.const 24)))
    (local.set $route (i32.add (local.get $env) (local.get $envLen)))
    (local.set $user (i32.add (local.get $route) (local.get $routeLen)))
    (local.set $claims (i32.add (local.get $user) (local.get $userLen)))
    (local.set $conn (i32.add (local.get $claims) (local.get $claimsLen)))
    (local.set $remote (i32.add (local.get $conn) (local.get $connLen)))

    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 0) (i32.const 5)) ;; allow
      (then (return (i64.const 0))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 8) (i32.const 5)) ;; block
      (then (return (call $reject (i32.const 136) (i32.const 7) (local.get $user) (local.get $userLen)))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 16) (i32.const 4)) ;; echo
      (then (return (call $output (i32.const 2) (local.get $env) (local.get $envLen)))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 24) (i32.const 6)) ;; claims
      (then (return (call $output (i32.const 2) (local.get $claims) (local.get $claimsLen)))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 32) (i32.const 4)) ;; conn
      (then (return (call $reject (i32.const 32) (i32.const 4) (local.get $conn) (local.get $connLen)))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 40) (i32.const 6)) ;; remote
      (then (return (call $reject (i32.const 40) (i32.const 6) (local.get $remote) (local.get $remoteLen)))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 48) (i32.const 4)) ;; drop
      (then (return (i64.const 3))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 56) (i32.const 4)) ;; move
      (then (return (call $output (i32.const 4) (i32.const 144) (i32.const 10)))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 64) (i32.const 6)) ;; config
      (then (return (call $pack (i32.const 2) (i32.const 0)
        (call $config (global.get $OUT) (global.get $OUTCAP))))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 72) (i32.const 3)) ;; log
      (then
        (call $log (i32.const 0) (i32.const 160) (i32.const 20))
        (return (i64.const 0))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 80) (i32.const 5)) ;; count
      (then
        (call $count (i32.const 184) (i32.const 4) (i64.const 2))
        (return (i64.const 0))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 248) (i32.const 5)) ;; clock: drop if now() is after 2020
      (then
        (if (i64.gt_s (call $now) (i64.const 1577836800000000000))
          (then (return (i64.const 3))))
        (return (i64.const 0))))

    ;; stall: 5000 iterations (several exits to Go), logging "stall" half-way
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 256) (i32.const 5))
      (then
        (loop $next
          (if (i32.eq (local.get $i) (i32.const 2500))
            (then (call $log (i32.const 0) (i32.const 256) (i32.const 5))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $next (i32.lt_u (local.get $i) (i32.const 5000))))
        (return (i64.const 0))))

    ;; failures
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 88) (i32.const 4)) ;; trap
      (then (unreachable)))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 96) (i32.const 4)) ;; loop
      (then (loop $forever (br $forever))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 264) (i32.const 7)) ;; spinlog: log forever
      (then (loop $forever (call $log (i32.const 0) (i32.const 264) (i32.const 7)) (br $forever))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 104) (i32.const 4)) ;; grow
      (then
        (loop $more
          (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
            (then (unreachable)))
          (br $more))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 112) (i32.const 4)) ;; exit
      (then (call $proc_exit (i32.const 3)) (unreachable)))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 120) (i32.const 3)) ;; bad: action 9
      (then (return (i64.const 9))))
    (if (call $eq (local.get $route) (local.get $routeLen) (i32.const 128) (i32.const 3)) ;; big: more output than the buffer
      (then (return (call $pack (i32.const 2) (i32.const 0) (i32.const 0x7fffffff)))))
    (i64.const 0))
)
