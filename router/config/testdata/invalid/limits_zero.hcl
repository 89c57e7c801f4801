# close_after = 0 would silently mean the default (10): -1 or a count.
limits {
  connect_rate  = "10"
  connect_burst = 0
  close_after   = 0
}
