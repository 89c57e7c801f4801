server {
  allowed_origins = ["*"]
}

auth {
  token_from = ["cookie:session"]
  jwt {}
}
