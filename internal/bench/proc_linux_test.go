package bench

import (
	"os"
	"testing"
)

// TestSockstatTCPPages: the slow scenario's TCP memory figures come from
// the TCP line of /proc/net/sockstat; the real file must parse too (its
// page count may well be 0 on an idle host, so the bench test cannot check
// that the figure is positive).
func TestSockstatTCPPages(t *testing.T) {
	in := "sockets: used 25\nTCP: inuse 11 orphan 0 tw 2 alloc 14 mem 69\nUDP: inuse 0 mem 0\n"
	if pages, ok := sockstatTCPPages([]byte(in)); !ok || pages != 69 {
		t.Errorf("got %d %v, want 69 true", pages, ok)
	}
	for _, bad := range []string{"", "UDP: inuse 0 mem 3\n", "TCP: inuse 1 mem x\n", "TCP: inuse 1\n"} {
		if _, ok := sockstatTCPPages([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		t.Skip(err)
	}
	if _, ok := sockstatTCPPages(b); !ok {
		t.Errorf("/proc/net/sockstat has no TCP mem field:\n%s", b)
	}
}
