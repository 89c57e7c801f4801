auth {
  token_from  = ["header:authorization"]
  reject_with = "http"
}
