route "a" {
  deliver {
    to = "rooms"
  }
}

route "b" {
  deliver {
    to = "room"
  }
}

route "c" {
  deliver {
    to = "user"
  }
}

route "d" {
  deliver {
    to   = "sender"
    room = msg.roomId
    user = msg.to
  }
}

route "e" {
  deliver {
    to = "sender"
    as = "error"
  }
}

route "f" {
  deliver {
    room = msg.roomId
  }
}
