server {
  allowed_origins = []
}
