# The config `switchboard bench fanout` runs beside router.hcl to measure
# the cost of one WASM validator on the fan-out path (docs/BENCHMARKS.md):
# router.hcl's join_room and send_message routes, with the nolinks example
# plugin on send_message. Build the plugin first, from the repository root:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared \
#     -o examples/plugins/nolinks/nolinks.wasm ./examples/plugins/nolinks
#   switchboard bench fanout -c examples/config/bench-validator.hcl

auth {
  token_from = ["query:token"]
  jwt {
    algorithms = ["HS256"]
    secret     = env("SWITCHBOARD_JWT_SECRET")
  }
}

plugin "nolinks" {
  source = "../plugins/nolinks/nolinks.wasm"
  config = { allow = ["example.com"] }
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
  rate    = "20/s"
  plugins = [plugin.nolinks]

  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
    as             = "message_received"
  }
}

test "the validator runs: links elsewhere are refused" {
  send = { type = "send_message", roomId = "bench", text = "free stuff at http://evil.test/win" }
  expect {
    verdict = "reject"
    code    = "link_not_allowed"
  }
}

test "bench messages pass" {
  send = { type = "send_message", roomId = "bench", text = "3:1795665432123456789" }
  expect {
    verdict = "deliver"
    room    = "bench"
  }
}
