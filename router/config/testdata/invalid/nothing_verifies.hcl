auth {
  token_from  = ["cookie:session"]
  reject_with = "http"
}
