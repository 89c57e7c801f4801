server {
  handshake_timeout = "5"

  heartbeat {
    interval = "0s"
    timeout  = "-1s"
  }
}

auth {
  jwt {
    leeway = "1 minute"
  }
}

plugin "slow" {
  source  = "slow.wasm"
  timeout = 10
}
