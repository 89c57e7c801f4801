package config

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Size units. KB and MB are decimal, KiB and MiB binary, as on a disk label.
var sizeUnits = map[string]int64{
	"b":   1,
	"kb":  1000,
	"mb":  1000 * 1000,
	"gb":  1000 * 1000 * 1000,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
}

// parseSize parses a byte size: "64KiB", "1MiB", "512B", "1MB" or a plain
// number of bytes. Units are case-insensitive; a space may precede them.
func parseSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a size: write a whole number of bytes or a number with a unit, such as \"64KiB\", \"1MB\" or \"512B\"", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	mult := int64(1)
	if unit != "" {
		m, ok := sizeUnits[unit]
		if !ok {
			return 0, fmt.Errorf("%q has an unknown unit %q: use B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)", s, t[i:])
		}
		mult = m
	}
	if n > math.MaxInt32/mult {
		// 2GiB is far beyond any sane frame or plugin memory; refusing it
		// also keeps the value an int on every platform.
		return 0, fmt.Errorf("%q is too large: the limit is 2GiB", s)
	}
	return int(n * mult), nil
}

// parseRate parses "N/s", "N/m" or "N/h" into a Rate with Burst = N.
func parseRate(s string) (*Rate, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return nil, fmt.Errorf("%q is not a rate: write a count per second, minute or hour, such as \"20/s\", \"100/m\" or \"1000/h\"", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%q does not start with a whole number of at least 1, as in \"20/s\"", s)
	}
	var per time.Duration
	switch strings.TrimSpace(unit) {
	case "s":
		per = time.Second
	case "m":
		per = time.Minute
	case "h":
		per = time.Hour
	default:
		return nil, fmt.Errorf("%q has an unknown period %q: use s, m or h, as in \"20/s\"", s, unit)
	}
	return &Rate{Count: n, Per: per, Burst: n}, nil
}

// parseDuration is time.ParseDuration with an error that says how to fix it.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write a number with a unit, such as \"10ms\", \"5s\" or \"1m30s\"", s)
	}
	return d, nil
}

// goValue converts a known cty value to JSON-compatible Go values:
// string, float64, bool, nil, []any and map[string]any.
func goValue(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsWhollyKnown() {
		return nil, fmt.Errorf("the value is not known when the config loads")
	}
	v, _ = v.Unmark()
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString(), nil
	case t == cty.Bool:
		return v.True(), nil
	case t == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("the number %s does not fit in a float64", v.AsBigFloat().Text('g', 10))
		}
		return f, nil
	case t.IsObjectType() || t.IsMapType():
		m := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			g, err := goValue(e)
			if err != nil {
				return nil, err
			}
			m[k.AsString()] = g
		}
		return m, nil
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		s := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			g, err := goValue(e)
			if err != nil {
				return nil, err
			}
			s = append(s, g)
		}
		return s, nil
	}
	return nil, fmt.Errorf("a value of type %s cannot be passed on as JSON", t.FriendlyName())
}

// wholeNumber returns a cty number as an int when it is a whole number that
// fits in 32 bits (every count in the config does, and this keeps it portable).
func wholeNumber(v cty.Value) (int, bool) {
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, false
	}
	i, acc := bf.Int64()
	if acc != big.Exact || i > math.MaxInt32 || i < math.MinInt32 {
		return 0, false
	}
	return int(i), true
}
