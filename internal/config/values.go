package config

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type boolValue bool

func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) IsBoolFlag() bool { return true }

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v = intValue(n)
	return nil
}

type int64Value int64

func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v = int64Value(n)
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30m or 12h", s)
	}
	*v = durationValue(d)
	return nil
}

type prefixesValue []netip.Prefix

func (v *prefixesValue) String() string {
	var parts []string
	for _, p := range *v {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ",")
}
func (v *prefixesValue) Set(s string) error {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", part)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	*v = out
	return nil
}

// retentionValue parses "track=days,track=days". Tracks and minimums are
// checked by the audit package when the log opens.
type retentionValue map[string]int

func (v *retentionValue) String() string {
	var parts []string
	for k, d := range *v {
		parts = append(parts, k+"="+strconv.Itoa(d))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (v *retentionValue) Set(s string) error {
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		track, days, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(strings.TrimSpace(days))
		if !ok || err != nil || n <= 0 || n > 36500 {
			return fmt.Errorf("%q is not track=days (e.g. security=365)", part)
		}
		switch track = strings.TrimSpace(track); track {
		case "history", "business", "security", "gdpr", "consent", "admin":
		default:
			return fmt.Errorf("%q: unknown track (history, business, security, gdpr, consent, admin)", track)
		}
		out[track] = n
	}
	*v = out
	return nil
}
