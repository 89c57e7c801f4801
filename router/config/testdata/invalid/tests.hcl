route "ping" {
  deliver {
    to = "sender"
  }
}

test "no type" {
  send = { text = "hi" }
}

test "bad expect" {
  send = { type = "ping" }
  expect {
    verdict = "rejekt"
    to      = "everyone"
  }
}

test "code without reject" {
  user = "alice"
  send = { type = "ping" }
  expect {
    code = "forbidden"
  }
}

test "code without reject" {
  claims = "admin"
}
