route "join_room" {
  action = "jion"
  room   = msg.roomId
}

route "leave_room" {
  action = "leave"
}

route "both" {
  action = "join"
  room   = msg.roomId
  deliver {
    to   = "room"
    room = msg.roomId
  }
}

route "neither" {
  rate = "1/s"
}

route "stray_room" {
  room = msg.roomId
  deliver {
    to = "broadcast"
  }
}
