// Package abi holds the constants and byte layouts of the Switchboard plugin
// ABI, shared by the host (package plugins) and the Go guest SDK (package
// sdk). plugins/ABI.md is the contract; this package is its executable form.
//
// The package is imported by guests compiled to wasip1, so it depends on
// nothing but encoding/binary.
package abi

import "encoding/binary"

// Version is the ABI version a guest must report from ExportVersion.
const Version = 1

// Names of the guest's exports.
const (
	ExportMemory  = "memory"
	ExportVersion = "switchboard_abi_version" // () -> i32
	ExportInit    = "switchboard_init"        // () -> i32: address of the descriptor, 0 on failure
	ExportReserve = "switchboard_reserve"     // (size i32) -> i32: address of the descriptor, 0 on failure
	ExportMessage = "switchboard_on_message"  // (in_len i32) -> i64: packed result
	ExportConnect = "switchboard_on_connect"  // (in_len i32) -> i64: packed result
)

// Host imports, all in module ImportModule.
const (
	ImportModule = "switchboard"
	ImportLog    = "log"    // (level i32, ptr i32, len i32)
	ImportConfig = "config" // (ptr i32, cap i32) -> i32: config JSON length
	ImportNow    = "now"    // () -> i64: Unix time in nanoseconds
	ImportCount  = "count"  // (name_ptr i32, name_len i32, delta i64)
)

// Action is what a plugin decided about a message.
type Action uint8

const (
	Allow     Action = 0 // pass the message on unchanged; output empty
	Reject    Action = 1 // refuse it; output = code (code_len bytes) + reason
	Transform Action = 2 // replace the envelope; output = the new JSON object
	Drop      Action = 3 // swallow it silently; output empty
	Reroute   Action = 4 // deliver elsewhere; output = the target
	maxAction        = Reroute
)

// Log levels, the same numbers as log/slog's.
const (
	LevelDebug = -4
	LevelInfo  = 0
	LevelWarn  = 4
	LevelError = 8
)

// MaxCodeLen bounds a reject code (it must fit the 8-bit code_len field).
const MaxCodeLen = 255

// Pack encodes a result: action in bits 0-7, code length in bits 8-15,
// bits 16-31 zero, output length in bits 32-63.
func Pack(a Action, codeLen, outLen uint32) uint64 {
	return uint64(a) | uint64(codeLen&0xff)<<8 | uint64(outLen)<<32
}

// Unpack decodes a result packed by Pack. ok is false when the reserved bits
// are set, the action is unknown or the code is longer than the output.
func Unpack(r uint64) (a Action, codeLen, outLen uint32, ok bool) {
	a = Action(r & 0xff)
	codeLen = uint32(r>>8) & 0xff
	outLen = uint32(r >> 32)
	ok = r&0xffff0000 == 0 && a <= maxAction && codeLen <= outLen
	return a, codeLen, outLen, ok
}

// DescriptorSize is the size of the buffer descriptor returned by
// ExportInit and ExportReserve: five little-endian u32s.
const DescriptorSize = 20

// Descriptor tells the host where the guest's buffers are.
type Descriptor struct {
	InPtr, InCap   uint32 // the host writes each input here
	OutPtr, OutCap uint32 // the guest writes each output here
	ErrLen         uint32 // init failed: the first ErrLen bytes of the output say why
}

// PutDescriptor writes d into b (len ≥ DescriptorSize).
func PutDescriptor(b []byte, d Descriptor) {
	binary.LittleEndian.PutUint32(b[0:], d.InPtr)
	binary.LittleEndian.PutUint32(b[4:], d.InCap)
	binary.LittleEndian.PutUint32(b[8:], d.OutPtr)
	binary.LittleEndian.PutUint32(b[12:], d.OutCap)
	binary.LittleEndian.PutUint32(b[16:], d.ErrLen)
}

// ReadDescriptor reads a descriptor written by PutDescriptor.
func ReadDescriptor(b []byte) Descriptor {
	return Descriptor{
		InPtr:  binary.LittleEndian.Uint32(b[0:]),
		InCap:  binary.LittleEndian.Uint32(b[4:]),
		OutPtr: binary.LittleEndian.Uint32(b[8:]),
		OutCap: binary.LittleEndian.Uint32(b[12:]),
		ErrLen: binary.LittleEndian.Uint32(b[16:]),
	}
}

// MessageHeaderSize is the size of the message input header: six
// little-endian u32 lengths, in the order of the fields that follow it.
const MessageHeaderSize = 24

// Message is the input of ExportMessage, as views into the input buffer.
type Message struct {
	Envelope   []byte // the JSON envelope (the previous plugin's output after a transform)
	Route      []byte // the route's message type
	UserID     []byte
	Claims     []byte // a JSON object, or empty
	ConnID     []byte
	RemoteAddr []byte
}

// MessageSize is the input size of a message with these field lengths.
func MessageSize(envelope, route, user, claims, conn, remote int) int {
	return MessageHeaderSize + envelope + route + user + claims + conn + remote
}

// PutMessage writes the input of ExportMessage into dst, which must hold
// MessageSize of the fields, and returns the number of bytes written.
func PutMessage(dst, envelope []byte, route, user string, claims []byte, conn, remote string) int {
	le := binary.LittleEndian
	le.PutUint32(dst[0:], uint32(len(envelope)))
	le.PutUint32(dst[4:], uint32(len(route)))
	le.PutUint32(dst[8:], uint32(len(user)))
	le.PutUint32(dst[12:], uint32(len(claims)))
	le.PutUint32(dst[16:], uint32(len(conn)))
	le.PutUint32(dst[20:], uint32(len(remote)))
	n := MessageHeaderSize
	n += copy(dst[n:], envelope)
	n += copy(dst[n:], route)
	n += copy(dst[n:], user)
	n += copy(dst[n:], claims)
	n += copy(dst[n:], conn)
	n += copy(dst[n:], remote)
	return n
}

// ParseMessage splits an input written by PutMessage. ok is false when the
// lengths do not add up to len(in).
func ParseMessage(in []byte) (m Message, ok bool) {
	if len(in) < MessageHeaderSize {
		return m, false
	}
	le := binary.LittleEndian
	var lens [6]uint64
	total := uint64(MessageHeaderSize)
	for i := range lens {
		lens[i] = uint64(le.Uint32(in[4*i:]))
		total += lens[i]
	}
	if total != uint64(len(in)) {
		return m, false
	}
	p := in[MessageHeaderSize:]
	next := func(n uint64) []byte {
		b := p[:n:n]
		p = p[n:]
		return b
	}
	m.Envelope = next(lens[0])
	m.Route = next(lens[1])
	m.UserID = next(lens[2])
	m.Claims = next(lens[3])
	m.ConnID = next(lens[4])
	m.RemoteAddr = next(lens[5])
	return m, true
}

// ConnectRequest is the input of ExportConnect, encoded as JSON. Header
// names are canonical (net/http's CanonicalHeaderKey).
type ConnectRequest struct {
	Method       string              `json:"method"`
	Path         string              `json:"path"`
	RemoteAddr   string              `json:"remoteAddr"`
	Headers      map[string][]string `json:"headers"`
	Query        map[string][]string `json:"query"`
	Cookies      map[string]string   `json:"cookies"`
	Subprotocols []string            `json:"subprotocols"`
}

// ConnectIdentity is the output of ExportConnect on Allow, encoded as JSON.
type ConnectIdentity struct {
	UserID string         `json:"userId"`
	Claims map[string]any `json:"claims,omitempty"`
}
