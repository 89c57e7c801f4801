# The chat protocol of router.hcl with every example plugin on it:
#   apikey    connect: services authenticate with an API key (X-API-Key header
#             or ?api_key=), everyone else with a JWT (?token=)
#   roomacl   rooms "admin:..." are for admins, "bots:..." for bots and admins
#   nolinks   links only to example.com
#   redact    e-mail addresses and phone numbers are masked
#   sanitize  text is escaped, so it is inert as HTML
# Paths are relative to this file; build the plugins first (README.md here),
# then:
#   switchboard test  -c examples/config/plugins.hcl
#   switchboard serve -c examples/config/plugins.hcl

server {
  listen      = "127.0.0.1:8080"
  path        = "/ws"
  max_payload = "64KiB"
  # No allowed_origins: pages served at the address connected to (same origin).
}

auth {
  token_from = ["query:token"]
  plugins    = [plugin.apikey]

  jwt {
    algorithms = ["HS256"]
    secret     = env("SWITCHBOARD_JWT_SECRET")
  }
}

plugin "apikey" {
  source = "../plugins/apikey/apikey.wasm"
  config = {
    # Demo keys. Real ones belong outside the file:
    # keys = { (env("BOT_API_KEY")) = { user = "svc-bot", roles = ["bot"] } }
    keys = {
      "demo-bot-key-0123456789abcdef"   = { user = "svc-bot", roles = ["bot"] }
      "demo-admin-key-0123456789abcdef" = { user = "svc-admin", roles = ["admin", "bot"] }
    }
  }
  timeout = "5ms"
}

plugin "roomacl" {
  source = "../plugins/roomacl/roomacl.wasm"
  config = {
    rules = [
      { prefix = "admin:", roles = ["admin"] },
      { prefix = "bots:", roles = ["bot", "admin"] },
    ]
  }
  timeout = "5ms"
}

plugin "nolinks" {
  source  = "../plugins/nolinks/nolinks.wasm"
  config  = { allow = ["example.com"] }
  timeout = "5ms"
}

plugin "redact" {
  source  = "../plugins/redact/redact.wasm"
  config  = { fields = ["text"] }
  timeout = "5ms"
}

plugin "sanitize" {
  source  = "../plugins/sanitize/sanitize.wasm"
  config  = { fields = ["text"] }
  timeout = "5ms"
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
  plugins = [plugin.roomacl]
  action  = "join"
  room    = msg.roomId
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
  # Authorize first, then refuse, then rewrite: redact before sanitize so
  # the masks are not escaped, and sanitize last so nothing undoes it.
  plugins = [plugin.roomacl, plugin.nolinks, plugin.redact, plugin.sanitize]

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
  rate    = "5/s"
  plugins = [plugin.roomacl]

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
  rate    = "5/s"
  plugins = [plugin.roomacl]

  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
  }
}

# Policy tests: `switchboard test -c examples/config/plugins.hcl`. They run
# the message-phase plugins; apikey works at connect, which these tests do
# not reach: plugins_test.go here checks it over a real WebSocket.

test "a plain message passes every plugin unchanged" {
  user = "alice"
  send = { type = "send_message", roomId = "lobby", text = "hello & welcome" }
  expect {
    verdict = "deliver"
    to      = "room"
    room    = "lobby"
    fields  = { type = "message_received", userId = "alice", text = "hello &amp; welcome" }
  }
}

test "roomacl: admin rooms refuse users without the admin role" {
  user   = "alice"
  claims = { roles = ["bot"] }
  send   = { type = "send_message", roomId = "admin:ops", text = "hi" }
  expect {
    verdict = "reject"
    code    = "room_forbidden"
  }
}

test "roomacl: admins post to admin rooms" {
  user   = "root"
  claims = { roles = ["admin"] }
  send   = { type = "send_message", roomId = "admin:ops", text = "deploying" }
  expect {
    room   = "admin:ops"
    fields = { text = "deploying" }
  }
}

test "roomacl: bots rooms take bots" {
  user   = "svc-bot"
  claims = { roles = ["bot"] }
  send   = { type = "send_message", roomId = "bots:alerts", text = "disk 91%" }
  expect {
    room = "bots:alerts"
  }
}

test "roomacl: joining an admin room needs the role too" {
  send = { type = "join_room", roomId = "admin:ops" }
  expect {
    verdict = "reject"
    code    = "room_forbidden"
  }
}

test "roomacl: typing in an admin room needs the role too" {
  send = { type = "typing_start", roomId = "admin:ops" }
  expect {
    verdict = "reject"
    code    = "room_forbidden"
  }
}

test "nolinks: links elsewhere are refused" {
  send = { type = "send_message", roomId = "lobby", text = "free stuff at http://evil.test/win" }
  expect {
    verdict = "reject"
    code    = "link_not_allowed"
  }
}

test "nolinks: links to example.com pass" {
  send = { type = "send_message", roomId = "lobby", text = "docs: https://docs.example.com/start" }
  expect {
    fields = { text = "docs: https://docs.example.com/start" }
  }
}

test "redact: e-mail addresses are masked" {
  send = { type = "send_message", roomId = "lobby", text = "write to alice@example.com today" }
  expect {
    fields = { text = "write to [email] today" }
  }
}

test "redact: phone numbers are masked" {
  send = { type = "send_message", roomId = "lobby", text = "call +1 (555) 123-4567 or 555-123-4567" }
  expect {
    fields = { text = "call [phone] or [phone]" }
  }
}

test "sanitize: markup is delivered inert" {
  send = { type = "send_message", roomId = "lobby", text = "<script>alert(1)</script>" }
  expect {
    fields = { text = "&lt;script&gt;alert(1)&lt;/script&gt;" }
  }
}

test "sanitize: attribute breakouts are escaped" {
  send = { type = "send_message", roomId = "lobby", text = "\" onmouseover='steal()'" }
  expect {
    fields = { text = "&#34; onmouseover=&#39;steal()&#39;" }
  }
}

test "the chain: redacted, then sanitized, other fields kept" {
  user = "bob"
  send = { type = "send_message", roomId = "lobby", text = "<b>bob@corp.example</b>", replyTo = "m1" }
  expect {
    room   = "lobby"
    fields = { text = "&lt;b&gt;[email]&lt;/b&gt;", replyTo = "m1", userId = "bob", roomId = "lobby" }
  }
}
