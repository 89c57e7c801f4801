servr {
  listen = "127.0.0.1:8080"
}

server {
  listn = "127.0.0.1:8080"

  heartbeat {
    interval = "30s"
    timeot   = "10s"
  }
}

route "ping" {
  delivr {
    to = "sender"
  }
}
