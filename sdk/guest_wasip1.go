//go:build wasip1

package sdk

import (
	"unsafe"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

// Buffer sizes: the input grows on the host's request (switchboard_reserve);
// the output stays at least as large as the input so a transform of similar
// size fits.
const initialBuffer = 64 << 10

var (
	inBuf, outBuf []byte
	desc          [abi.DescriptorSize]byte
)

func addr(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

func descriptor(errLen int) int32 {
	abi.PutDescriptor(desc[:], abi.Descriptor{
		InPtr: addr(inBuf), InCap: uint32(len(inBuf)),
		OutPtr: addr(outBuf), OutCap: uint32(len(outBuf)),
		ErrLen: uint32(errLen),
	})
	return int32(addr(desc[:]))
}

//go:wasmexport switchboard_abi_version
func exportVersion() int32 { return abi.Version }

//go:wasmexport switchboard_init
func exportInit() int32 {
	inBuf = make([]byte, initialBuffer)
	outBuf = make([]byte, initialBuffer)
	return descriptor(dispatchInit(outBuf))
}

//go:wasmexport switchboard_reserve
func exportReserve(size int32) int32 {
	if size < 0 {
		return 0
	}
	n := int(size)
	if n > len(inBuf) {
		inBuf = make([]byte, n)
	}
	if n > len(outBuf) {
		outBuf = make([]byte, n)
	}
	return descriptor(0)
}

// growOut gives the output buffer room for n bytes during a call: a new
// buffer, recorded in the descriptor, which the host reads again when
// out_len exceeds the out_cap it knew.
func growOut(n int) []byte {
	outBuf = make([]byte, max(n, 2*len(outBuf)))
	descriptor(0)
	return outBuf
}

//go:wasmexport switchboard_on_message
func exportMessage(n int32) int64 { return int64(dispatchMessage(inBuf[:n], outBuf)) }

//go:wasmexport switchboard_on_connect
func exportConnect(n int32) int64 { return int64(dispatchConnect(inBuf[:n], outBuf)) }

//go:wasmimport switchboard log
func importLog(level int32, ptr unsafe.Pointer, n int32)

//go:wasmimport switchboard config
func importConfig(ptr unsafe.Pointer, n int32) int32

//go:wasmimport switchboard now
func importNow() int64

//go:wasmimport switchboard count
func importCount(ptr unsafe.Pointer, n int32, delta int64)

func hostLog(level int32, msg string) {
	importLog(level, unsafe.Pointer(unsafe.StringData(msg)), int32(len(msg)))
}

func hostCount(name string, delta int64) {
	importCount(unsafe.Pointer(unsafe.StringData(name)), int32(len(name)), delta)
}

func hostNow() int64 { return importNow() }

func configJSON() []byte {
	n := importConfig(nil, 0)
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	importConfig(unsafe.Pointer(&b[0]), n)
	return b
}
