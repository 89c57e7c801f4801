//go:build !unix

package router

import (
	"errors"
	"net"
	"syscall"
)

// rawWriter has no non-blocking writes on this platform: every batch goes
// to a writer goroutine.
type rawWriter struct{}

func newRawWriter() *rawWriter { return nil }

func rawConnOf(net.Conn) syscall.RawConn { return nil }

func (*rawWriter) writev(syscall.RawConn, [][]byte) (int, error) {
	return 0, errors.ErrUnsupported
}
