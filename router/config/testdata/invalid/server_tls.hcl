# A tls block needs both files: a missing one is hcl's "Missing required
# argument", an empty one is "Incomplete TLS". One tls block per server.
server {
  max_header_bytes = "0B"

  tls {
    cert_file = ""
  }

  tls {
    cert_file = "cert.pem"
    key_file  = "key.pem"
  }
}
