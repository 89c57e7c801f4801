auth {
  token_from = ["first_message"]
  jwt {
    secret = "s3cret"
  }
}

route "error" {
  deliver {
    to = "sender"
  }
}

route "ack" {
  deliver {
    to = "sender"
  }
}

route "connected" {
  deliver {
    to = "sender"
  }
}

route "auth" {
  deliver {
    to = "sender"
  }
}

route "" {
  deliver {
    to = "sender"
  }
}
