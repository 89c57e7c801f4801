# send_queue was a number of frames; it is a size now.
server {
  send_queue   = 256
  send_timeout = "0s"
}
