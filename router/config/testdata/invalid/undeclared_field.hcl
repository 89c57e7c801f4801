# msg.<field> must name a field of the route's schema (when it has one).
route "join_room" {
  schema {
    field "roomId" {
      type = "string"
    }
  }
  action = "join"
  room   = msg.roomid
}

route "send_message" {
  schema {
    field "roomId" {
      type = "string"
    }
    field "to" {
      type = "string"
    }
  }
  deliver {
    to   = "room"
    room = "chat:${msg.room}:${msg.type}:${msg.room}"
  }
}

route "direct" {
  schema {
    field "text" {
      type = "string"
    }
  }
  deliver {
    to   = "user"
    user = msg["recipient"]
  }
}

route "ping" {
  schema {}
  deliver {
    to   = "room"
    room = msg.id
  }
}

route "poke" {
  schema {}
  deliver {
    to   = "user"
    user = msg.to
  }
}

# No schema: any field may be referenced.
route "free" {
  deliver {
    to   = "room"
    room = msg.anything
  }
}
