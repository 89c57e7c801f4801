# Every block and attribute, with values that differ from the defaults.
server {
  listen            = ":9000"
  path              = "/realtime"
  max_payload       = "1MB"
  allowed_origins   = ["https://app.example.com"]
  trusted_proxies   = ["10.0.0.0/8", "192.0.2.1", "fd00::/8"]
  handshake_timeout = "2s"
  send_queue        = "64KiB"
  send_timeout      = "3s"
  write_delay       = "0s"
  max_header_bytes  = "8KiB"

  heartbeat {
    interval = "15s"
    timeout  = "5s"
  }

  tls {
    cert_file = "certs/server.pem"
    key_file  = "/etc/switchboard/server.key"
  }
}

auth {
  token_from  = ["query:access_token", "cookie:session", "header:Authorization", "subprotocol", "first_message"]
  reject_with = "http"
  plugins     = [plugin.tenant]

  first_message_timeout = "3s"
  on_expiry             = "refresh"

  jwt {
    algorithms   = ["HS512", "EdDSA"]
    secret       = env("SWITCHBOARD_TEST_SECRET")
    public_key   = trimspace(file("jwt.pub"))
    jwks_refresh = "1h"
    issuer       = "https://auth.example.com"
    audience     = "chat"
    leeway       = "30s"
    require_exp  = false
  }
}

limits {
  message_rate         = "50/s"
  message_burst        = 100
  user_message_rate    = "6000/m"
  user_message_burst   = 200
  connect_rate         = "10/m"
  connect_burst        = 3
  connections_per_user = 5
  rooms_per_connection = 20
  close_after          = -1
}

plugin "tenant" {
  source = "/opt/plugins/tenant.wasm"
}

plugin "no_links" {
  source   = "plugins/nolinks.wasm"
  config   = { allow = ["example.com"], max = 3, strict = true, nested = { ratio = 0.5, none = null } }
  timeout  = "2ms"
  memory   = "1MiB"
  pool     = 4
  on_error = "allow"

  breaker {
    failures = 3
    window   = 50
    users    = 3
    cooldown = "30s"
  }
}

route "join_team" {
  action = "join"
  room   = "team:${user.claims.team}"
}

route "leave_room" {
  action = "leave"
  room   = msg["roomId"]
}

route "send_message" {
  schema {
    field "roomId" {
      type       = "string"
      required   = true
      min_length = 1
      max_length = 128
      pattern    = "^[a-z0-9:_-]+$"
    }
    field "priority" {
      type = "number"
      min  = -1.5
      max  = 10
    }
    field "mood" {
      type = "string"
      enum = ["happy", "sad"]
    }
    field "tags" {
      type       = "array"
      max_length = 5
    }
    field "urgent" {
      type = "bool"
    }
    field "meta" {
      type = "object"
    }
  }
  rate       = "100/m"
  burst      = 10
  user_rate  = "300/m"
  user_burst = 30
  plugins = [plugin.no_links, plugin.tenant]

  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
    as             = "message_received"
    require_member = false
  }
}

route "direct" {
  rate      = "1000/h"
  user_rate = "2000/h"
  deliver {
    to   = "user"
    user = msg.to
  }
}

route "whoami" {
  deliver {
    to = "sender"
  }
}

route "announce" {
  deliver {
    to = "broadcast"
  }
}

route "sink" {
  deliver {
    to   = "none"
    as   = "${env("SWITCHBOARD_TEST_PREFIX")}sunk"
  }
}

test "links are rejected" {
  user   = "alice"
  claims = { team = "red", admin = false }
  send   = { type = "send_message", roomId = "lobby", text = "see http://evil.test" }
  expect {
    verdict = "reject"
    code    = "forbidden"
  }
}

test "message reaches the room" {
  user = "bob"
  send = { type = "send_message", roomId = "lobby", text = "hi" }
  expect {
    to     = "room"
    room   = "lobby"
    fields = { text = "hi", userId = "bob" }
  }
}
