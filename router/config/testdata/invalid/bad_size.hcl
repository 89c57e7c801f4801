server {
  max_payload = "64XB"
}

plugin "a" {
  source = "a.wasm"
  memory = "3GiB"
}

plugin "b" {
  source = "b.wasm"
  memory = 0
}

plugin "c" {
  source = "c.wasm"
  memory = "lots"
}
