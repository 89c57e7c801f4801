plugin "no_links" {
  source = "nolinks.wasm"
}

plugin "no_links" {
  source = "nolinks2.wasm"
}

plugin "no links" {
  source = "nolinks3.wasm"
}
