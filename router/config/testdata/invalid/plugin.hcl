plugin "empty" {
  source   = ""
  on_error = "alow"
}

plugin "missing" {
  timeout = "2ms"
}

plugin "bad_config" {
  source = "x.wasm"
  config = ["not", "an", "object"]
  pool   = -1
}

plugin "both" {
  native = true
  source = "x.wasm"
}
