route "a" {
  deliver {
    to   = "room"
    room = msg
  }
}

route "b" {
  deliver {
    to   = "room"
    room = foo.bar
  }
}

route "c" {
  deliver {
    to   = "user"
    user = user.name
  }
}

route "d" {
  deliver {
    to   = "room"
    room = msg.room.id
  }
}

route "e" {
  deliver {
    to   = "room"
    room = "team:${user.claims}"
  }
}

route "f" {
  deliver {
    to   = "room"
    room = msg.a == "x" ? msg.a : msg.b
  }
}

route "g" {
  deliver {
    to   = "room"
    room = msg.items[0]
  }
}
