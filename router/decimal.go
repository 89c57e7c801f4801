package router

import (
	"cmp"
	"strings"
)

// decimal is a number as sign × 0.digits × 10^exp, with no leading or
// trailing zeros in digits ("" for zero), so that two decimals compare
// exactly by sign, exponent, then digits.
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// parseDecimal reads a number in RFC 8259 §6 syntax (also what
// strconv.FormatFloat 'g' and big.Float.Text 'g' write). Exponents beyond
// ±10^15 are clamped: no frame has that many digits, so order is kept.
func parseDecimal(s string) decimal {
	var d decimal
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	end := strings.IndexAny(s, "eE")
	mant, expPart := s, ""
	if end >= 0 {
		mant, expPart = s[:end], s[end+1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	var exp int64
	expNeg := false
	if expPart != "" && (expPart[0] == '+' || expPart[0] == '-') {
		expNeg, expPart = expPart[0] == '-', expPart[1:]
	}
	for i := 0; i < len(expPart); i++ {
		if exp < 1e15 {
			exp = exp*10 + int64(expPart[i]-'0')
		}
	}
	if expNeg {
		exp = -exp
	}
	digits := intPart + frac
	exp += int64(len(intPart))
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
		exp--
	}
	d.digits = strings.TrimRight(digits, "0")
	d.exp = exp
	if d.digits == "" {
		return decimal{} // zero, whatever its sign
	}
	return d
}

func (d decimal) sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// cmpDecimal compares two numbers given as JSON number text exactly:
// -1, 0 or +1. Comparing float64s cannot tell 9007199254740993 from
// 9007199254740992.
func cmpDecimal(a, b string) int {
	x, y := parseDecimal(a), parseDecimal(b)
	sx, sy := x.sign(), y.sign()
	if sx != sy || sx == 0 {
		return cmp.Compare(sx, sy)
	}
	c := cmp.Compare(x.exp, y.exp)
	if c == 0 {
		// Same exponent: compare 0.digits; with no trailing zeros the
		// string order is the numeric order.
		c = strings.Compare(x.digits, y.digits)
	}
	return c * sx
}
