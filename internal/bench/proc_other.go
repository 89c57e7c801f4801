//go:build !linux

package bench

import (
	"errors"
	"net"
	"os/exec"
	"time"
)

// Elsewhere than Linux the bench runs, without pinning, RSS or CPU
// figures: they come from /proc and sched_setaffinity.
var errLinuxOnly = errors.New("needs Linux")

// RaiseFileLimit is a no-op: the Go runtime raises the limit itself.
func RaiseFileLimit() (uint64, error) { return 0, errLinuxOnly }

// PinSelf is not supported.
func PinSelf(cpu int) error { return errors.New("--load-cpu " + errLinuxOnly.Error()) }

func rss(int) (uint64, error) { return 0, errLinuxOnly }

func cpuTime(int) time.Duration { return 0 }

type cpuMeter struct{}

func startCPU(int) cpuMeter { return cpuMeter{} }

func (cpuMeter) stop() (server, load float64) { return 0, 0 }

func dieWithParent(*exec.Cmd) {}

func tcpMem() uint64 { return 0 }

func tcpEstablished(net.Conn) bool { return true }

func unreadBytes(net.Conn) uint64 { return 0 }
