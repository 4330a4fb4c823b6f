package i18n

import (
	"testing"
	"time"
)

// TestDate: each language writes a day as its readers do.
func TestDate(t *testing.T) {
	day := time.Date(2026, time.November, 23, 12, 0, 0, 0, time.UTC)
	for lang, want := range map[string]string{
		"en": "23 November 2026", "sv": "23 november 2026", "nb": "23. november 2026",
		"sk": "23. novembra 2026", "cs": "23. listopadu 2026", "xx": "23 November 2026",
	} {
		if got := Date(lang, day); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	for _, lang := range Languages {
		if _, ok := months[lang]; !ok {
			t.Errorf("no month names for %s", lang)
		}
	}
}
