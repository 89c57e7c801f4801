// Package bench is the load generator behind `switchboard bench`: room
// fan-out, idle connections and connection setup, against a Switchboard
// server (started as a child process or given by URL) and, for comparison
// in the same run, a naive gws server speaking the same protocol subset.
//
// The client side is a minimal WebSocket client written directly over
// net.Conn (client.go), not gws: the figures must not depend on the library
// under test, and one load-generator core has to read hundreds of thousands
// of frames a second, which a general-purpose client spends most of its
// time allocating for.
package bench
