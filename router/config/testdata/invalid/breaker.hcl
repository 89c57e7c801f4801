plugin "zero" {
  source = "x.wasm"
  breaker {
    failures = 0
    cooldown = "0s"
  }
}

plugin "negative" {
  source = "x.wasm"
  breaker {
    failures = -2
    cooldown = "soon"
    timeout  = "1s"
  }
}

plugin "twice" {
  source = "x.wasm"
  breaker {}
  breaker {
    failures = 2.5
  }
}
