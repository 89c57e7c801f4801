# Cookie tokens without allowed_origins (CSWSH), an unknown on_expiry, a zero
# first_message_timeout, and an asymmetric algorithm with no key source.
server {
  listen = "127.0.0.1:8080"
}

auth {
  token_from            = ["query:token", "cookie:session"]
  first_message_timeout = "0s"
  on_expiry             = "renew"

  jwt {
    algorithms   = ["EdDSA"]
    jwks_refresh = "5m"
  }
}
