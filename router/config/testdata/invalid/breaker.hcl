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

plugin "window" {
  source = "x.wasm"
  breaker {
    failures = 30
    window   = 20
  }
}

plugin "huge" {
  source = "x.wasm"
  breaker {
    window = 5000
    users  = 0
  }
}

plugin "lenient" {
  source   = "x.wasm"
  on_error = "allow"
}

plugin "lenient_block" {
  source   = "x.wasm"
  on_error = "allow"
  breaker {
    cooldown = "1s"
  }
}

plugin "lenient_stated" {
  source   = "x.wasm"
  on_error = "allow"
  breaker {
    failures = 10
  }
}
