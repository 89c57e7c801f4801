auth {
  plugins = [plugin.check_token]
}

plugin "no_links" {
  source = "nolinks.wasm"
}

route "send_message" {
  plugins = [plugin.no_link, plugin.no_links, plugin.spam]
  deliver {
    to = "broadcast"
  }
}

route "other" {
  plugins = [no_links, "no_links"]
  deliver {
    to = "broadcast"
  }
}
