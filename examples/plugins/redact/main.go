// Command redact is a plugin that masks e-mail addresses and phone numbers
// in the configured fields: "mail alice@example.com" is delivered as
// "mail [email]", "call +1 (555) 123-4567" as "call [phone]".
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o redact.wasm ./examples/plugins/redact
package main

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/switchboard-rt/switchboard/sdk"
)

// config is the plugin block's config.
type config struct {
	Fields []string `json:"fields"` // top-level string fields to redact; default ["text"]
}

var cfg config

func init() {
	sdk.HandleInit(func() error {
		cfg = config{}
		if err := sdk.ConfigStrict(&cfg); err != nil {
			return err
		}
		if cfg.Fields == nil {
			cfg.Fields = []string{"text"}
		}
		if len(cfg.Fields) == 0 {
			return errors.New(`fields: list at least one field, e.g. fields = ["text"]`)
		}
		for _, f := range cfg.Fields {
			if f == "" || f == "type" {
				return fmt.Errorf("fields: %q cannot be redacted; list the envelope's text fields, e.g. \"text\"", f)
			}
		}
		return nil
	})
	sdk.HandleMessage(redactMessage)
}

func redactMessage(m *sdk.Message) sdk.Verdict {
	env, changed, err := sdk.RewriteStrings(m.Envelope(), cfg.Fields, redact)
	if err != nil {
		// The host checked the envelope is JSON: this is a bug here. The
		// details go to the log; the client gets words it can act on.
		sdk.Log(sdk.LevelError, "redact: "+err.Error())
		return sdk.Reject("redact_failed", "the message could not be redacted")
	}
	if !changed {
		return sdk.Allow()
	}
	sdk.Count("redacted", 1)
	return sdk.Transform(env)
}

// The masks that replace what was found.
const (
	emailMask = "[email]"
	phoneMask = "[phone]"
)

// redact returns s with e-mail addresses and phone numbers masked, and
// false when there are none (the same in every field). It scans bytes by hand rather than with package
// regexp, which would add to the module and to every call (see README.md).
func redact(_ string, s []byte) ([]byte, bool) {
	var out []byte // nil until something is masked
	last := 0      // s[last:] is not yet in out
	for i := 0; i < len(s); {
		start, end, mask := i, 0, ""
		switch c := s[i]; {
		case c == '@':
			start, end = email(s, i)
			mask = emailMask
		case c == '+' || c == '(' || isDigit(c):
			end = phone(s, i)
			mask = phoneMask
		}
		if end == 0 {
			// Skip the rest of the word, or of the run of digits and
			// separators: no match starts inside one.
			skip := isAlnum
			if mask == phoneMask {
				skip = isPhoneByte
			}
			if skip(s[i]) {
				for i++; i < len(s) && skip(s[i]); i++ {
				}
			} else {
				i++
			}
			continue
		}
		if start < last { // an address right after a phone number
			start = last
		}
		out = append(append(out, s[last:start]...), mask...)
		last, i = end, end
	}
	if out == nil {
		return nil, false
	}
	return append(out, s[last:]...), true
}

// email looks for an address around the '@' at s[at]: a local part of
// letters, digits and ._%+- before it, and after it a domain of at least two
// dot-separated labels (letters, digits, -) whose last label has two or more
// letters. It returns the address's bounds, or end 0.
func email(s []byte, at int) (start, end int) {
	start = at
	for start > 0 && isLocal(s[start-1]) {
		start--
	}
	for start < at && s[start] == '.' { // a sentence's full stop is not part of it
		start++
	}
	if start == at {
		return 0, 0
	}
	end = at + 1
	for end < len(s) && (isAlnum(s[end]) || s[end] == '-' || s[end] == '.') {
		end++
	}
	for end > at+1 && (s[end-1] == '.' || s[end-1] == '-') { // "mail a@b.com." ends at "com"
		end--
	}
	domain := s[at+1 : end]
	dot := bytes.LastIndexByte(domain, '.')
	if dot <= 0 || len(domain)-dot-1 < 2 {
		return 0, 0
	}
	for _, c := range domain[dot+1:] {
		if !isLetter(c) {
			return 0, 0
		}
	}
	return start, end
}

// phone looks for a phone number starting at s[i]: an optional +, then
// digits in groups separated by at most two of " -.()", with 10 to 15
// digits in all (8 to 15 after a +), not inside a word or a longer number.
// It returns the end of the number, or 0.
func phone(s []byte, i int) int {
	if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '+') {
		return 0
	}
	j := i
	plus := s[j] == '+'
	if plus {
		j++
	}
	digits, end, seps := 0, 0, 0
scan:
	for ; j < len(s); j++ {
		switch c := s[j]; {
		case isDigit(c):
			if digits++; digits > 15 {
				return 0
			}
			end, seps = j+1, 0
		case isSeparator(c):
			if seps++; seps > 2 {
				break scan
			}
		default:
			break scan
		}
	}
	min := 10
	if plus {
		min = 8
	}
	if digits < min || end < len(s) && isLetter(s[end]) {
		return 0
	}
	return end
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }
func isSeparator(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'
}
func isPhoneByte(c byte) bool { return isDigit(c) || c == '+' || isSeparator(c) }
func isLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func main() {}
