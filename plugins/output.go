package plugins

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

// CodeTooLarge is the reject code for an input a plugin declined to take
// (switchboard_reserve returned 0) or one over the host's maxInput. It is
// a verdict, not a plugin failure: on_error does not apply, and the
// instance is kept.
const CodeTooLarge = "too_large"

// maxInput is the largest input the host passes to a guest.
const maxInput = 1 << 30

// errDeclined marks an input the guest would not take: not a failure.
var errDeclined = errors.New("input declined")

// tooLarge is the verdict on an input the guest declined. The reason names
// no plugin (it goes to the client); the log does.
func (p *Plugin) tooLarge(what string, size int, err error) Verdict {
	p.log.Info("input refused as too large", "bytes", size, "reason", err.Error())
	return Verdict{Action: Reject, Code: CodeTooLarge,
		Reason: "the " + what + " is too large to be checked (" + strconv.Itoa(size) + " bytes)"}
}

// output returns the guest's output buffer for a call's result. A result
// whose out_len exceeds the out_cap the host knows makes the host read the
// descriptor again, where the guest may have put a larger buffer during
// the call (see ABI.md, "Output larger than out_cap").
func (inst *instance) output(result uint64) ([]byte, error) {
	if _, _, outLen, ok := abi.Unpack(result); ok && outLen > inst.desc.OutCap {
		if err := inst.readDescriptor(inst.descPtr); err != nil {
			return nil, fmt.Errorf("%w: output of %d bytes, and after the call %v", errMalformed, outLen, err)
		}
	}
	out, ok := inst.mem.Read(inst.desc.OutPtr, inst.desc.OutCap)
	if !ok {
		return nil, errors.New("output buffer is outside memory")
	}
	return out, nil
}
