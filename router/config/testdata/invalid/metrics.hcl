# metrics: listen must be host:port, path must start with "/" and must not
# be the WebSocket path.
metrics {
  listen = "9090"
  path   = "metrics"
}
