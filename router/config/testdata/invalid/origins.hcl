# "http://127.0.0.1:*" (any port) and "https://*.example.com" are valid; the rest are not.
server {
  allowed_origins = [
    "http://127.0.0.1:*",
    "https://*.example.com",
    "null",
    "app.example.com",
    "https://a.*.example.com",
    "https://app.example.com/chat",
    "http://localhost:99999",
  ]
}
