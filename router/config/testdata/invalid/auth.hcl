auth {
  token_from  = ["query:", "cookies:session", "header:x-token", "subprotocol:v1", "first_message"]
  reject_with = "401"

  jwt {
    algorithms = ["HS256", "RS256", "none", "hs512"]
  }
}
