package plugins

import (
	"errors"
	"fmt"
)

// stopExport is the mutable i32 global that injectStop adds to a module.
// The guest sets it to 1 before each exit to Go and traps if it is still
// set afterwards; the host clears it to let the guest go on.
const stopExport = "__switchboard_stop"

// startExport names the module's start function, which injectStop turns
// into an export so that the host runs it (see injected) once it can
// answer the guest's yields.
const startExport = "__switchboard_start"

// depthExport is the mutable i32 global holding the stack budget left (see
// injectStop); the guest sets it to depthOverflow before it traps for a
// stack overflow, so the host can tell that trap from others.
const depthExport = "__switchboard_depth"

// stackBudget is the stack a call may use, in units of frameCost: 1<<16
// units bound wazero's stack to a few MiB per call (see docs/RATIONALE.md,
// "Every guest is bounded"), against its own limit of 400 MB.
const stackBudget = 1 << 16

// depthOverflow is the value of the depth global after a stack overflow.
const depthOverflow = -1

// injected is a rewritten module.
type injected struct {
	bin []byte
	// maxPages is the memory maximum the module declared (0: none), which
	// injectStop removed and the host enforces instead (see limitedMemory).
	maxPages uint32
	// start reports a start function, exported as startExport.
	start bool
}

// injectStop rewrites a WebAssembly binary so that the host can meter and
// stop a call, so that a call never holds up the Go scheduler, and so that
// a call's stack is bounded. Every loop header and every function entry
// gets a time check:
//
//	global.get $budget  i32.const 1  i32.lt_s
//	if                               ;; every yieldEvery units:
//	  i32.const 1  global.set $stop  ;; "this is a yield"
//	  block
//	    i32.const 1  memory.grow     ;; exit to Go: the host's yield hook
//	    br_if 0                      ;; (a join: see below)
//	  end
//	  global.get $stop  if unreachable end
//	  i32.const yieldEvery  global.set $budget
//	end
//	global.get $budget  i32.const cost  i32.sub  global.set $budget
//
// where cost is 1 for a loop iteration and timeCost for a function entry.
// Anything that runs long either loops or makes calls, so it passes checks.
// memory.grow reaches the instance's allocator
// (limitedMemory.Reallocate), which sees $stop set, refuses the page (the
// yield never grows memory), accounts the time since the previous yield
// (meter.yield) and clears $stop unless the call is over its timeout, in
// which case the guest traps. The block makes the global.get follow a
// join: wazero's compiler reuses a global's value within a straight run of
// code (memory.grow does not invalidate it), so without the join the guest
// would read back the 1 it stored, not what the host left. The exit to Go
// matters as much: native code
// cannot be preempted, so a guest spinning without ever leaving it would
// stall the garbage collector's stop-the-world, and with it every
// goroutine of the server. memory.grow is the cheapest exit available
// without adding an import (which would renumber every function).
//
// Every function also takes frameCost units from the $depth global at
// entry and gives them back at every exit; the body is wrapped in a block,
// so that a branch to the function's label (and a catch clause that
// returns) leaves through the one exit at its end; return and tail calls
// get the exit before them:
//
//	global.get $depth  local.tee $saved  i32.const cost  i32.lt_s
//	if  i32.const -1  global.set $depth  unreachable  end  ;; overflow
//	local.get $saved  i32.const cost  i32.sub  global.set $depth
//	block (result ...)  body  end
//	local.get $saved  global.set $depth
//
// $saved is a new local. An exception caught within a function skips the
// exits of the frames it unwound, so functions with try_table also reset
// $depth to their own value after every end and loop header.
//
// The allocator is reached only while the memory is below its maximum, so
// a declared maximum is removed (and returned, for the host to enforce),
// leaving wazero's 4 GiB. Guest code must not run before the host holds
// the $stop global, so a start function becomes an export for the host to
// call after instantiation.
//
// The new globals, types and locals are appended, so no existing index
// changes. DWARF sections are dropped: their code offsets would be wrong.
// It returns an error for modules without a memory and for instructions or
// types it does not know (SIMD, threads, legacy exceptions, GC types); the
// caller then falls back to wazero's own mechanism.
func injectStop(bin []byte) (*injected, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly binary")
	}
	if string(bin[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("not a WebAssembly 1.0 binary (core modules only)")
	}
	type section struct {
		id      byte
		payload []byte
	}
	var secs []section
	r := reader{b: bin, i: 8}
	for r.i < len(r.b) {
		id := r.byte()
		n := r.u32()
		p := r.bytes(int(n))
		if r.err != nil {
			return nil, fmt.Errorf("truncated section %d", id)
		}
		secs = append(secs, section{id, p})
	}

	// The new globals' indices: after imported and defined globals.
	var stopIdx uint32
	res := &injected{}
	hasMemory := false
	var startFunc uint32
	var types []funcType
	var funcs []uint32 // type index of each defined function
	for i, s := range secs {
		switch s.id {
		case secType:
			var err error
			if types, err = parseTypes(s.payload); err != nil {
				return nil, err
			}
		case secFunction:
			r := reader{b: s.payload}
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				funcs = append(funcs, r.u32())
			}
			if r.err != nil {
				return nil, errors.New("malformed function section")
			}
		case secMemory:
			payload, maxPages, err := unlimitMemory(s.payload)
			if err != nil {
				return nil, err
			}
			secs[i].payload, res.maxPages = payload, maxPages
			hasMemory = true
		case secStart:
			r := reader{b: s.payload}
			if startFunc = r.u32(); r.err != nil {
				return nil, errors.New("malformed start section")
			}
			res.start = true
		case secImport:
			n, mem, err := countImports(s.payload)
			if err != nil {
				return nil, err
			}
			if mem {
				return nil, errors.New("the module imports its memory")
			}
			stopIdx += n
		case secGlobal:
			r := reader{b: s.payload}
			stopIdx += r.u32()
		}
	}

	if !hasMemory {
		return nil, errors.New("the module has no memory")
	}
	budgetIdx, depthIdx := stopIdx+1, stopIdx+2
	globalEntry := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b} // $stop: mut i32 = i32.const 0
	globalEntry = append(globalEntry, 0x7f, 0x01, 0x41)
	globalEntry = appendI32(globalEntry, yieldEvery)
	globalEntry = append(globalEntry, 0x0b, 0x7f, 0x01, 0x41) // $budget: mut i32 = yieldEvery
	globalEntry = appendI32(globalEntry, stackBudget)
	globalEntry = append(globalEntry, 0x0b) // $depth: mut i32 = stackBudget
	const newGlobals = 3
	exportEntry := appendName(nil, stopExport)
	exportEntry = append(exportEntry, 0x03) // global
	exportEntry = appendU32(exportEntry, stopIdx)
	exportEntry = appendName(exportEntry, depthExport)
	exportEntry = append(exportEntry, 0x03)
	exportEntry = appendU32(exportEntry, depthIdx)
	exports := uint32(2)
	if res.start {
		exportEntry = appendName(exportEntry, startExport)
		exportEntry = append(exportEntry, 0x00) // func
		exportEntry = appendU32(exportEntry, startFunc)
		exports++
	}

	// Each function body is wrapped in a block of the function's results
	// and no params; more than one result needs a type of its own.
	fns := make([]funcInfo, len(funcs))
	var newTypes []byte
	var nNewTypes uint32
	added := map[string]uint32{}
	for i, ti := range funcs {
		if int(ti) >= len(types) {
			return nil, fmt.Errorf("function %d has an unknown type %d", i, ti)
		}
		t := types[ti]
		fns[i].params = t.params
		switch {
		case t.results == 0:
			fns[i].block = []byte{0x40}
		case t.results == 1:
			fns[i].block = t.resultTypes
		case t.params == 0:
			fns[i].block = appendI32(nil, int32(ti))
		default:
			idx, ok := added[string(t.resultVec)]
			if !ok {
				idx = uint32(len(types)) + nNewTypes
				added[string(t.resultVec)] = idx
				newTypes = append(append(newTypes, 0x60, 0x00), t.resultVec...)
				nNewTypes++
			}
			fns[i].block = appendI32(nil, int32(idx))
		}
	}

	out := append([]byte(nil), bin[:8]...)
	emit := func(id byte, payload []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(payload)))
		out = append(out, payload...)
	}
	var haveGlobal, haveExport bool
	for _, s := range secs {
		// Sections are ordered: create the global and export sections at
		// their place when the module has none.
		if s.id != secCustom {
			if !haveGlobal && order(s.id) > order(secGlobal) {
				emit(secGlobal, append([]byte{newGlobals}, globalEntry...))
				haveGlobal = true
			}
			if !haveExport && order(s.id) > order(secExport) {
				emit(secExport, append(appendU32(nil, exports), exportEntry...))
				haveExport = true
			}
		}
		switch s.id {
		case secCustom:
			r := reader{b: s.payload}
			if name := r.name(); r.err == nil && len(name) >= 7 && name[:7] == ".debug_" {
				continue
			}
			emit(s.id, s.payload)
		case secType:
			emit(s.id, appendVecEntries(s.payload, nNewTypes, newTypes))
		case secGlobal:
			emit(s.id, appendVecEntries(s.payload, newGlobals, globalEntry))
			haveGlobal = true
		case secExport:
			emit(s.id, appendVecEntries(s.payload, exports, exportEntry))
			haveExport = true
		case secStart: // exported instead
		case secCode:
			code, err := injectCode(s.payload, fns, stopIdx, budgetIdx, depthIdx)
			if err != nil {
				return nil, err
			}
			emit(s.id, code)
		default:
			emit(s.id, s.payload)
		}
	}
	if !haveGlobal {
		emit(secGlobal, append([]byte{newGlobals}, globalEntry...))
	}
	if !haveExport {
		emit(secExport, append(appendU32(nil, exports), exportEntry...))
	}
	res.bin = out
	return res, nil
}

// yieldEvery is how many loop iterations run between two exits to Go:
// large enough that the exit (~50 ns) is noise, small enough that it comes
// within microseconds.
const yieldEvery = 1000

const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secCode      = 10
	secDataCount = 12
	secTag       = 13
)

// order is a section's position in the binary (the tag section sits between
// memory and global, data count before code).
func order(id byte) int {
	switch id {
	case secTag:
		return 55
	case secDataCount:
		return 95
	}
	return int(id) * 10
}

func appendVecEntries(vec []byte, count uint32, entries []byte) []byte {
	r := reader{b: vec}
	n := r.u32()
	out := appendU32(nil, n+count)
	out = append(out, vec[r.i:]...)
	return append(out, entries...)
}

// unlimitMemory removes the maximum from a memory section's limits and
// returns it in pages (0: none was declared).
func unlimitMemory(p []byte) ([]byte, uint32, error) {
	r := reader{b: p}
	if n := r.u32(); n != 1 || r.err != nil {
		return nil, 0, fmt.Errorf("%d memories (want one)", n)
	}
	flags := r.byte()
	minPages := r.u32()
	var maxPages uint32
	switch flags {
	case 0x00:
	case 0x01:
		maxPages = r.u32()
		if maxPages == 0 {
			return nil, 0, errors.New("the memory's maximum is 0 pages")
		}
	default:
		return nil, 0, fmt.Errorf("unsupported memory type (flags %#x: shared or 64-bit)", flags)
	}
	if r.err != nil || r.i != len(p) {
		return nil, 0, errors.New("malformed memory section")
	}
	return appendU32([]byte{1, 0x00}, minPages), maxPages, nil
}

// countImports returns the number of imported globals and whether a memory
// is imported.
func countImports(p []byte) (globals uint32, memory bool, err error) {
	r := reader{b: p}
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0x00: // func
			r.u32()
		case 0x01: // table: reftype, limits
			r.byte()
			r.limits()
		case 0x02: // memory
			r.limits()
			memory = true
		case 0x03: // global
			r.byte()
			r.byte()
			globals++
		case 0x04: // tag
			r.byte()
			r.u32()
		default:
			return 0, false, fmt.Errorf("unknown import kind %#x", kind)
		}
	}
	if r.err != nil {
		return 0, false, errors.New("malformed import section")
	}
	return globals, memory, nil
}

// funcType is what injectStop needs of a function type.
type funcType struct {
	params      uint32
	results     uint32
	resultVec   []byte // the results as encoded: count, value types
	resultTypes []byte // the value types alone
}

// funcInfo is what injectBody needs of a defined function.
type funcInfo struct {
	params uint32
	block  []byte // the block type of the body's wrapper
}

func parseTypes(p []byte) ([]funcType, error) {
	r := reader{b: p}
	n := r.u32()
	types := make([]funcType, 0, min(n, 1<<16))
	for ; n > 0 && r.err == nil; n-- {
		if form := r.byte(); form != 0x60 {
			return nil, fmt.Errorf("unsupported type form %#x (GC types)", form)
		}
		var t funcType
		for k := r.u32(); k > 0 && r.err == nil; k-- {
			r.valtype()
			t.params++
		}
		start := r.i
		k := r.u32()
		vals := r.i
		for ; k > 0 && r.err == nil; k-- {
			r.valtype()
			t.results++
		}
		t.resultVec, t.resultTypes = r.b[start:r.i], r.b[vals:r.i]
		types = append(types, t)
	}
	if r.err != nil {
		return nil, errors.New("malformed type section")
	}
	return types, nil
}

// timeCost is what a function entry takes from the time budget: one unit
// per started timeCodeBytes of code, so that the straight-line code run
// between two yields is bounded too (yieldEvery*timeCodeBytes bytes of code
// at most, plus one leaf call per call site).
func timeCost(bodyLen int) int32 { return int32(min(1+bodyLen/timeCodeBytes, yieldEvery)) }

// timeCodeBytes: a function entry costs one unit per this many bytes of its
// code. Large enough that entries of typical functions cost one unit (each
// extra unit brings the next exit to Go closer, ~0.3 µs each); small enough
// that 1000 units run at most ~1 MB of straight-line code.
const timeCodeBytes = 1024

// frameCost is what a function's frame takes from the stack budget: one unit
// per 64 bytes of the frame wazero may give it, estimated from its code.
func frameCost(bodyLen int) int32 { return int32(min(1+bodyLen/frameCodeBytes, stackBudget)) }

// frameCodeBytes is how many bytes of code cost one unit of stack budget
// (see docs/RATIONALE.md, "Every guest is bounded", for the measurement).
const frameCodeBytes = 8

// yieldCheck returns the time check (see injectStop) taking cost units.
func yieldCheck(stopIdx, budgetIdx uint32, cost int32) []byte {
	getBudget := appendU32([]byte{0x23}, budgetIdx)
	setBudget := appendU32([]byte{0x24}, budgetIdx)
	var check []byte
	check = append(check, getBudget...)
	check = append(check, 0x41, 0x01, 0x48, 0x04, 0x40)         // i32.const 1 i32.lt_s if
	check = appendU32(append(check, 0x41, 0x01, 0x24), stopIdx) // i32.const 1 global.set $stop
	check = append(check, 0x02, 0x40, 0x41, 0x01, 0x40, 0x00)   // block i32.const 1 memory.grow
	check = append(check, 0x0d, 0x00, 0x0b)                     // br_if 0 end (see injectStop)
	check = appendU32(append(check, 0x23), stopIdx)
	check = append(check, 0x04, 0x40, 0x00, 0x0b) // if unreachable end
	check = appendI32(append(check, 0x41), yieldEvery)
	check = append(check, setBudget...)
	check = append(check, 0x0b) // end
	check = append(check, getBudget...)
	check = appendI32(append(check, 0x41), cost)
	check = append(check, 0x6b) // i32.sub
	return append(check, setBudget...)
}

// code holds the injected sequences shared by all functions.
type code struct {
	stopIdx, budgetIdx, depthIdx uint32
	loop                         []byte // the loop header's check
}

func injectCode(p []byte, fns []funcInfo, stopIdx, budgetIdx, depthIdx uint32) ([]byte, error) {
	c := &code{stopIdx: stopIdx, budgetIdx: budgetIdx, depthIdx: depthIdx}
	c.loop = yieldCheck(stopIdx, budgetIdx, 1)
	r := reader{b: p}
	n := r.u32()
	if int(n) != len(fns) {
		return nil, fmt.Errorf("%d function bodies for %d functions", n, len(fns))
	}
	out := appendU32(make([]byte, 0, len(p)+len(p)/4+int(n)*64), n)
	var body []byte
	for fn := uint32(0); fn < n; fn++ {
		size := r.u32()
		b := r.bytes(int(size))
		if r.err != nil {
			return nil, errors.New("malformed code section")
		}
		var err error
		body, err = c.injectBody(body[:0], b, fns[fn], false)
		if errors.Is(err, errCatches) {
			body, err = c.injectBody(body[:0], b, fns[fn], true)
		}
		if err != nil {
			return nil, fmt.Errorf("function %d of the code section: %w", fn, err)
		}
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

// errCatches makes injectCode redo a function that catches exceptions.
var errCatches = errors.New("the function has try_table")

// injectBody rewrites one function body (see injectStop). With restore, it
// resets $depth after every end and loop header, for functions that catch
// exceptions; without, it fails with errCatches on a try_table. A leaf (a
// function without calls) gets only its loop checks: it cannot make a path
// longer than its loops and code allow, nor nest, so its entry needs no check
// and its one frame on top of the others no budget.
func (c *code) injectBody(out, b []byte, fn funcInfo, restore bool) ([]byte, error) {
	r := reader{b: b}
	groups := r.u32()
	first := r.i // the first local group
	locals := uint64(fn.params)
	for n := groups; n > 0 && r.err == nil; n-- {
		locals += uint64(r.u32())
		r.valtype()
	}
	if r.err != nil {
		return nil, errors.New("malformed locals")
	}
	if locals >= 1<<31 {
		return nil, errors.New("too many locals")
	}
	code := r.i
	leaf := true
	for r.i < len(r.b) && leaf {
		op, err := r.instr()
		if err != nil {
			return nil, err
		}
		leaf = op < 0x10 || op > 0x13 // call, call_indirect, return_call, return_call_indirect
	}
	if leaf {
		out = append(out, b[:code]...)
		r.i = code
		for r.i < len(r.b) {
			start := r.i
			op, err := r.instr()
			if err != nil {
				return nil, err
			}
			out = append(out, b[start:r.i]...)
			if op == 0x03 { // loop
				out = append(out, c.loop...)
			}
		}
		return out, nil
	}

	saved := uint32(locals)
	out = appendU32(out, groups+1)
	out = append(out, b[first:code]...)
	out = append(out, 0x01, 0x7f) // $saved: i32

	cost := frameCost(len(b))
	getSaved := appendU32([]byte{0x20}, saved)
	setDepth := appendU32([]byte{0x24}, c.depthIdx)
	exit := append(append([]byte(nil), getSaved...), setDepth...)
	var reset []byte // $depth = $saved - cost
	if restore {
		reset = appendI32(append(append(reset, getSaved...), 0x41), cost)
		reset = append(append(reset, 0x6b), setDepth...)
	}

	out = append(out, yieldCheck(c.stopIdx, c.budgetIdx, timeCost(len(b)))...)
	out = appendU32(append(out, 0x23), c.depthIdx) // global.get $depth
	out = appendU32(append(out, 0x22), saved)      // local.tee $saved
	out = appendI32(append(out, 0x41), cost)
	out = append(out, 0x48, 0x04, 0x40, 0x41) // i32.lt_s if i32.const
	out = appendI32Signed(out, depthOverflow)
	out = append(append(out, setDepth...), 0x00, 0x0b) // global.set $depth unreachable end
	out = append(out, reset...)
	if !restore {
		out = appendI32(append(append(out, getSaved...), 0x41), cost)
		out = append(append(out, 0x6b), setDepth...)
	}
	out = append(out, 0x02)
	out = append(out, fn.block...)

	r.i = code
	for r.i < len(r.b) {
		start := r.i
		op, err := r.instr()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x0f, 0x12, 0x13: // return, return_call, return_call_indirect
			out = append(out, exit...)
		case 0x1f: // try_table
			if !restore {
				return nil, errCatches
			}
		}
		out = append(out, b[start:r.i]...)
		switch op {
		case 0x03: // loop
			out = append(out, c.loop...)
			out = append(out, reset...)
		case 0x0b: // end
			out = append(out, reset...)
		}
	}
	// The body's own end closed the wrapper block.
	out = append(out, exit...)
	return append(out, 0x0b), nil
}

// instr reads one instruction with its immediates and returns its opcode;
// it fails for instructions injectStop does not know.
func (r *reader) instr() (byte, error) {
	op := r.byte()
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
		r.blocktype()
	case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x0a || op == 0x1a || op == 0x1b || op == 0xd1:
	case op >= 0x45 && op <= 0xc4: // numeric, sign extension
	case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || op == 0x08 || op == 0xd2 ||
		op >= 0x20 && op <= 0x26 || op == 0x3f || op == 0x40:
		r.u32()
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x0e: // br_table
		for k := r.u32(); k > 0 && r.err == nil; k-- {
			r.u32()
		}
		r.u32()
	case op == 0x1c: // select t*
		for k := r.u32(); k > 0 && r.err == nil; k-- {
			r.valtype()
		}
	case op == 0x1f: // try_table
		r.blocktype()
		for k := r.u32(); k > 0 && r.err == nil; k-- {
			switch r.byte() {
			case 0x00, 0x01:
				r.u32()
				r.u32()
			default:
				r.u32()
			}
		}
	case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
		if align := r.u32(); align&0x40 != 0 {
			r.u32() // memory index
		}
		r.leb()
	case op == 0x41 || op == 0x42:
		r.leb()
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xd0: // ref.null
		r.valtype()
	case op == 0xfc:
		switch sub := r.u32(); {
		case sub <= 7:
		case sub == 8 || sub == 10 || sub == 12 || sub == 14:
			r.u32()
			r.u32()
		case sub <= 17:
			r.u32()
		default:
			return 0, fmt.Errorf("unsupported instruction 0xfc %d", sub)
		}
	default:
		return 0, fmt.Errorf("unsupported instruction %#x", op)
	}
	if r.err != nil {
		return 0, errors.New("truncated instruction")
	}
	return op, nil
}

// reader decodes the binary format; the first error sticks.
type reader struct {
	b   []byte
	i   int
	err error
}

var errTruncated = errors.New("truncated")

func (r *reader) byte() byte {
	if r.i >= len(r.b) {
		r.err = errTruncated
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || r.i+n > len(r.b) {
		r.err = errTruncated
		r.i = len(r.b)
		return nil
	}
	b := r.b[r.i : r.i+n]
	r.i += n
	return b
}

func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errTruncated
	return 0
}

// leb skips a LEB128 number of any width.
func (r *reader) leb() {
	for k := 0; k < 10; k++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.err = errTruncated
}

func (r *reader) name() string { return string(r.bytes(int(r.u32()))) }

func (r *reader) limits() {
	flags := r.byte()
	r.leb()
	if flags&1 != 0 {
		r.leb()
	}
}

// valtype reads a value type or heap type: one byte, or a type index.
func (r *reader) valtype() {
	if c := r.byte(); c == 0x63 || c == 0x64 { // (ref null? ht)
		r.leb()
	}
}

func (r *reader) blocktype() {
	if r.i < len(r.b) && (r.b[r.i] == 0x63 || r.b[r.i] == 0x64) {
		r.valtype() // (ref null? ht)
		return
	}
	if r.i < len(r.b) && (r.b[r.i] == 0x40 || r.b[r.i]&0xc0 == 0x40) {
		r.i++ // empty or a value type (0x40-0x7f)
		return
	}
	r.leb() // a type index (s33)
}

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendI32Signed appends a signed LEB128 number.
func appendI32Signed(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendI32 appends a non-negative signed LEB128 number.
func appendI32(b []byte, v int32) []byte {
	for v >= 0x40 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}
