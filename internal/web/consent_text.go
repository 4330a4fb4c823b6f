package web

import (
	"github.com/kandidat/kandidat/internal/i18n"
	"github.com/kandidat/kandidat/internal/recruit"
)

// ConsentText names a version of a consent text for the reader: the day it
// took effect, in the page's language; a version without a known date
// (none today) by its name.
func (p *page) ConsentText(version string) string {
	if t, ok := recruit.ConsentTextInEffect(version); ok {
		return p.T("career.consent_text_date", "date", i18n.Date(p.Lang, t))
	}
	return p.T("career.consent_version", "version", version)
}

// ConsentTextSince names a consent text for the reader by the day it took
// effect: the built-in text's day, or the day the company saved its version.
func (p *page) ConsentTextSince(t recruit.ConsentText) string {
	if t.Since.IsZero() {
		return p.ConsentText(t.Version)
	}
	return p.T("career.consent_text_date", "date", i18n.Date(p.Lang, t.Since))
}
