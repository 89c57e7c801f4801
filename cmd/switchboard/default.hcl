# Switchboard's default config: the chat protocol most WebSocket guides teach,
# so a browser client written for it works unchanged. Run it with
#   go run ./cmd/switchboard serve
# Reference: docs/CONFIG.md

server {
  listen            = "127.0.0.1:8080"
  path              = "/ws"
  max_payload       = "64KiB"
  # allowed_origins is not set: browsers may connect from pages served at
  # the address they connect to (same origin), whatever --listen says. To
  # allow other sites, list them: allowed_origins = ["https://app.example.com"]
  handshake_timeout = "5s"
  send_queue        = "1MiB"
  send_timeout      = "10s"
  write_delay       = "2ms"

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

# Far above what a person does, even rejoining rooms after a reconnect; a
# script looping is stopped. Every frame counts, whatever its type, and
# close_after (default 10) refused frames in a row, or as many messages its
# plugins failed on, close with 4008. Per-user
# rates outlive the user's connections: reconnecting does not refill them.
limits {
  message_rate         = "50/s"
  message_burst        = 100
  connect_rate         = "60/m" # per client address
  connect_burst        = 30
  connections_per_user = 20
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
  # A join or leave tells every member of the room: a join/leave loop
  # would flood them, on one connection or reconnecting.
  rate       = "10/s"
  burst      = 50
  user_rate  = "10/s"
  user_burst = 100
  action     = "join"
  room       = msg.roomId
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
  rate       = "10/s"
  burst      = 50
  user_rate  = "10/s"
  user_burst = 100
  action     = "leave"
  room       = msg.roomId
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

# Policy tests: `switchboard test` runs them against the routes above,
# offline. The sender counts as a member of the rooms it sends to.

test "send_message goes to the room as message_received" {
  user = "alice"
  send = { type = "send_message", roomId = "lobby", text = "hello", replyTo = "m1" }
  expect {
    verdict = "deliver"
    to      = "room"
    room    = "lobby"
    fields  = { type = "message_received", roomId = "lobby", userId = "alice", text = "hello", replyTo = "m1" }
  }
}

test "the sender cannot be spoofed" {
  user = "alice"
  send = { type = "send_message", roomId = "lobby", text = "hi", userId = "mallory" }
  expect {
    fields = { userId = "alice" }
  }
}

test "text over 2000 characters is refused" {
  send = { type = "send_message", roomId = "lobby", text = format("%02001d", 0) }
  expect {
    verdict = "reject"
    code    = "invalid_field"
  }
}

test "empty text is refused" {
  send = { type = "send_message", roomId = "lobby", text = "" }
  expect {
    verdict = "reject"
    code    = "invalid_field"
  }
}

test "join_room joins the room" {
  send = { type = "join_room", roomId = "lobby" }
  expect {
    verdict = "join"
    room    = "lobby"
  }
}

test "another user's private room cannot be joined" {
  send = { type = "join_room", roomId = "user:bob" }
  expect {
    verdict = "reject"
    code    = "forbidden"
  }
}

test "a user's private room cannot be sent to, not even one's own" {
  user = "alice"
  send = { type = "send_message", roomId = "user:alice", text = "note to self" }
  expect {
    verdict = "reject"
    code    = "forbidden"
  }
}

test "leave_room leaves the room" {
  send = { type = "leave_room", roomId = "lobby" }
  expect {
    verdict = "leave"
    room    = "lobby"
  }
}

test "typing_start is relayed with the sender" {
  user = "bob"
  send = { type = "typing_start", roomId = "lobby" }
  expect {
    to     = "room"
    room   = "lobby"
    fields = { type = "typing_start", userId = "bob" }
  }
}

test "unknown types are refused" {
  send = { type = "shout" }
  expect {
    verdict = "reject"
    code    = "unknown_type"
  }
}
