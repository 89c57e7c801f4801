route "ping" {
  deliver {
    to = "sender"
  }
}

route "ping" {
  deliver {
    to = "broadcast"
  }
}
