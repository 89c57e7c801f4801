route "a" {
  rate = "5/d"
  deliver {
    to = "sender"
  }
}

route "b" {
  rate = "many/s"
  deliver {
    to = "sender"
  }
}

route "c" {
  rate = "20"
  deliver {
    to = "sender"
  }
}

route "d" {
  burst = 10
  deliver {
    to = "sender"
  }
}

route "e" {
  rate  = "20/s"
  burst = 0
  deliver {
    to = "sender"
  }
}

route "f" {
  user_burst = 10
  deliver {
    to = "sender"
  }
}

route "g" {
  rate       = "20/s"
  user_rate  = "20/d"
  user_burst = 20
  deliver {
    to = "sender"
  }
}

route "h" {
  user_rate  = "20/s"
  user_burst = 0
  deliver {
    to = "sender"
  }
}
