auth {
  jwt {
    algorithms = ["ES256"]
    public_key = "not a key"
  }
}

route "auth" {
  deliver {
    to = "sender"
  }
}
