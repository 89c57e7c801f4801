# One key source only.
auth {
  jwt {
    algorithms = ["RS256"]
    jwks_file  = "jwks.json"
    jwks_url   = "https://auth.example.com/.well-known/jwks.json"
  }
}
