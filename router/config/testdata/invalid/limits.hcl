# Negative or zero counts, bad rates, a burst without its rate, an unknown
# attribute, and a second limits block.
limits {
  message_rate         = "5/d"
  message_burst        = 10
  user_message_rate    = "lots"
  connect_burst        = 5
  connections_per_user = -1
  rooms_per_connection = 0
  close_after          = -2
  max_rooms            = 3
}

limits {
  connect_rate = "10/s"
}
