# Switchboard's default config: the chat protocol most WebSocket guides teach,
# so a browser client written for it works unchanged. Run it with
#   go run ./cmd/switchboard serve
# Reference: docs/CONFIG.md

server {
  listen            = "127.0.0.1:8080"
  path              = "/ws"
  max_payload       = "64KiB"
  allowed_origins   = ["http://localhost:8080", "http://127.0.0.1:8080"]
  handshake_timeout = "5s"
  send_queue        = 256

  heartbeat {
    interval = "30s"
    timeout  = "10s"
  }
}

auth {
  token_from  = ["query:token"]
  reject_with = "close"

  jwt {
    algorithms = ["HS256"]
    # When SWITCHBOARD_JWT_SECRET is unset, `switchboard serve` makes a random
    # secret for the run and prints a ready-to-use demo token.
    secret = env("SWITCHBOARD_JWT_SECRET")
  }
}

route "join_room" {
  schema {
    field "roomId" {
      type       = "string"
      required   = true
      min_length = 1
      max_length = 128
    }
  }
  action = "join"
  room   = msg.roomId
}

route "leave_room" {
  schema {
    field "roomId" {
      type       = "string"
      required   = true
      min_length = 1
      max_length = 128
    }
  }
  action = "leave"
  room   = msg.roomId
}

route "send_message" {
  schema {
    field "roomId" {
      type       = "string"
      required   = true
      min_length = 1
      max_length = 128
    }
    field "text" {
      type       = "string"
      required   = true
      min_length = 1
      max_length = 2000
    }
    field "replyTo" {
      type       = "string"
      max_length = 128
    }
  }
  rate = "20/s"

  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
    as             = "message_received"
  }
}

route "typing_start" {
  schema {
    field "roomId" {
      type       = "string"
      required   = true
      min_length = 1
      max_length = 128
    }
  }
  rate = "5/s"

  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
  }
}

route "typing_stop" {
  schema {
    field "roomId" {
      type       = "string"
      required   = true
      min_length = 1
      max_length = 128
    }
  }
  rate = "5/s"

  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
  }
}
