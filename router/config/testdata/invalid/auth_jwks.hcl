# jwks_url must be http(s); jwks_refresh must be positive.
auth {
  jwt {
    algorithms   = ["RS256"]
    jwks_url     = "auth.example.com/.well-known/jwks.json"
    jwks_refresh = "0s"
  }
}
