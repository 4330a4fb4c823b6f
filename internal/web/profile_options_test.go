package web

import (
	"strings"
	"testing"
)

// TestProfileOptions: the select options written once per language mark
// the value the form holds, and nothing for a value none has.
func TestProfileOptions(t *testing.T) {
	c := codesIn("sv")
	got := string(c.CountryOptions("SE"))
	if !strings.Contains(got, `<option value="SE" selected>Sverige</option>`) || strings.Count(got, "selected") != 1 {
		t.Errorf("Sweden not selected once, in Swedish: %.200s", got)
	}
	for _, v := range []string{"", "XX", `SE"><script>`, "se"} {
		if got := string(c.CountryOptions(v)); strings.Contains(got, "selected") || strings.Contains(got, "<script>") {
			t.Errorf("CountryOptions(%q) selects or injects", v)
		}
	}
	if got := string(c.CurrencyOptions("SEK")); !strings.Contains(got, `<option value="SEK" selected>SEK</option>`) || strings.Count(got, "selected") != 1 {
		t.Errorf("SEK not selected once")
	}
}
