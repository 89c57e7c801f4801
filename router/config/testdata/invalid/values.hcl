server {
  listen          = "localhost"
  path            = "ws"
  send_queue      = 0
  allowed_origins = "http://localhost:8080"
}

route "ping" {
  deliver {
    to             = "sender"
    exclude_sender = "maybe"
    as             = null
  }
}

test "env" {
  send = { type = "ping", n = env(42, 43) }
}
