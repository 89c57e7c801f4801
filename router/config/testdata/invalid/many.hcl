# Several unrelated mistakes in one file: every one of them is reported.
server {
  listen      = "127.0.0.1:8080"
  max_payload = "64 kilobytes"
}

auth {
  token_from = ["query:token", "header:cookie"]
  jwt {
    algorithms = ["HS256", "RS512"]
  }
}

plugin "no_links" {
  source   = "nolinks.wasm"
  timeout  = "2 ms"
  on_error = "ignore"
}

route "join_room" {
  action = "join"
  room   = msg
}

route "send_message" {
  schema {
    field "text" {
      type       = "text"
      max_length = 2000
    }
  }
  rate    = "20/sec"
  plugins = [plugin.no_link]
  deliver {
    to             = "room"
    room           = message.roomId
    exclude_sender = true
  }
}

route "send_message" {
  deliver {
    to = "everyone"
  }
}
