// Process helpers for Linux, where the bench's figures come from /proc
// and pinning from sched_setaffinity; proc_other.go has the fallbacks.
package bench

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// RaiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit. Setting it
// explicitly (rather than relying on Go's automatic raise) also makes child
// servers inherit it: Go restores the original soft limit for children
// unless the program set one itself.
func RaiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// PinSelf restricts every thread of this process to one CPU and sets
// GOMAXPROCS to 1, so the load generator uses exactly one core. Threads
// the runtime starts later inherit the mask from the thread that clones
// them, which is already pinned.
func PinSelf(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("pin the load generator to cpu %d: %w", cpu, err)
		}
	}
	runtime.GOMAXPROCS(1)
	return nil
}

// rss returns the resident set size of pid in bytes (VmRSS).
func rss(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v) // "1234 kB"
			if len(f) == 2 {
				kb, err := strconv.ParseUint(string(f[0]), 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// clockTick is USER_HZ, the unit of /proc/PID/stat times; it is 100 on
// every Linux architecture Go supports.
const clockTick = 100

// cpuTime returns the user+system CPU time of pid (0: this process).
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
			return 0
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name may contain spaces: fields start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseUint(string(f[11]), 10, 64) // field 14 overall
	st, _ := strconv.ParseUint(string(f[12]), 10, 64) // field 15
	return time.Duration(ut+st) * time.Second / clockTick
}

// cpuMeter measures the CPU share of the server and of this process over
// an interval, in cores: 1.0 is one core busy all the time.
type cpuMeter struct {
	pid        int
	t0         time.Time
	srv0, self time.Duration
}

func startCPU(pid int) cpuMeter {
	m := cpuMeter{pid: pid, t0: time.Now(), self: cpuTime(0)}
	if pid > 0 {
		m.srv0 = cpuTime(pid)
	}
	return m
}

func (m cpuMeter) stop() (server, load float64) {
	wall := time.Since(m.t0).Seconds()
	if wall <= 0 {
		return 0, 0
	}
	load = (cpuTime(0) - m.self).Seconds() / wall
	if m.pid > 0 {
		server = (cpuTime(m.pid) - m.srv0).Seconds() / wall
	}
	return server, load
}

// dieWithParent makes the started server get SIGTERM if the bench dies, so
// it never outlives the bench, even when the bench is killed.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// tcpMem is the kernel's TCP buffer memory for the whole host, in bytes:
// the "mem" pages of /proc/net/sockstat's TCP line; 0 when unknown.
func tcpMem() uint64 {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	pages, _ := sockstatTCPPages(b)
	return pages * uint64(os.Getpagesize())
}

// sockstatTCPPages reads the "mem" pages of the TCP line of a
// /proc/net/sockstat text; false when there is none.
func sockstatTCPPages(b []byte) (uint64, bool) {
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) == 0 || string(f[0]) != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			if string(f[i]) == "mem" {
				pages, err := strconv.ParseUint(string(f[i+1]), 10, 64)
				return pages, err == nil
			}
		}
	}
	return 0, false
}

// tcpEstablished reports whether the kernel still holds nc established:
// false once the server reset it or sent its FIN, which a client that
// reads nothing never learns from a read.
func tcpEstablished(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	state := uint8(unix.BPF_TCP_ESTABLISHED)
	_ = rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			state = info.State
		}
	})
	return state == unix.BPF_TCP_ESTABLISHED
}

// unreadBytes is the payload bytes waiting in nc's receive queue
// (SIOCINQ): what a client that never reads holds in its own kernel.
func unreadBytes(nc net.Conn) uint64 {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	var n int
	_ = rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
	return uint64(max(n, 0))
}
