//go:build unix

package router

import (
	"net"
	"syscall"
	"unsafe"
)

// rawWriter makes one non-blocking writev on a socket, with an iovec
// array reused from call to call (net.Buffers keeps one per socket).
type rawWriter struct {
	iov []syscall.Iovec
	fn  func(fd uintptr) bool // w.write, bound once: a closure per call would allocate
	n   int
	err error
}

func newRawWriter() *rawWriter {
	w := &rawWriter{}
	w.fn = w.write
	return w
}

func rawConnOf(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn) // *net.TCPConn, *net.UnixConn; not *tls.Conn
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// maxIOV is Linux's IOV_MAX; a longer batch is written in part, and the
// rest by the connection's writer goroutine.
const maxIOV = 1024

// writev writes as much of bufs as the socket takes now, without waiting,
// and returns the number of bytes written. A full socket is not an error.
func (w *rawWriter) writev(rc syscall.RawConn, bufs [][]byte) (int, error) {
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if len(w.iov) == maxIOV {
			break
		}
		v := syscall.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		w.iov = append(w.iov, v)
	}
	w.n, w.err = 0, nil
	if len(w.iov) > 0 {
		if err := rc.Write(w.fn); err != nil {
			w.err = err
		}
	}
	clear(w.iov) // let the frames go
	w.iov = w.iov[:0]
	return w.n, w.err
}

func (w *rawWriter) write(fd uintptr) bool {
	for {
		n, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.iov[0])), uintptr(len(w.iov)))
		switch e {
		case 0:
			w.n = int(n)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
		default:
			w.err = e
		}
		return true // done either way: never wait for the socket here
	}
}
