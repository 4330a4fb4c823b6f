package web

import (
	"net/netip"
	"regexp"
	"testing"
)

func mustPrefixes(t testing.TB, s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		pp, err := netip.ParsePrefix(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pp)
	}
	return out
}

func regexpFind(s, pattern string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
