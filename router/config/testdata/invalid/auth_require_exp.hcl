auth {
  jwt {
    secret      = "s"
    require_exp = "sometimes"
  }
}
