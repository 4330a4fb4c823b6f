// Package i18n holds the message catalogues of every language Kandidat
// speaks and picks the language of a person. The catalogues are embedded
// JSON files, one per language, with the same keys; a test fails when a key
// is missing in any of them. They live here rather than under web because
// emails and background jobs speak to people too.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFS embed.FS

// Languages Kandidat speaks, the fallback first.
var Languages = []string{"en", "sv", "nb", "sk", "cs"}

// Fallback is the language used when nothing else matches.
const Fallback = "en"

// Bundle holds every catalogue.
type Bundle struct {
	catalogues map[string]map[string]string
}

// Load reads the embedded catalogues.
func Load() (*Bundle, error) {
	b := &Bundle{catalogues: map[string]map[string]string{}}
	for _, lang := range Languages {
		raw, err := localeFS.ReadFile(path.Join("locales", lang+".json"))
		if err != nil {
			return nil, fmt.Errorf("read catalogue %s: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("parse catalogue %s: %w", lang, err)
		}
		b.catalogues[lang] = m
	}
	return b, nil
}

// Has reports whether lang is a supported language code.
func (b *Bundle) Has(lang string) bool { return slices.Contains(Languages, lang) }

// Keys returns the keys of a catalogue, sorted.
func (b *Bundle) Keys(lang string) []string {
	var keys []string
	for k := range b.catalogues[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// T returns the message key in lang with {name} placeholders replaced by
// the pairs in args ("name", value, ...). A missing key shows as the key
// itself, so it is noticed rather than hidden.
func (b *Bundle) T(lang, key string, args ...any) string {
	msg, ok := b.catalogues[lang][key]
	if !ok {
		if msg, ok = b.catalogues[Fallback][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return msg
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// Pick chooses the language of a person: their own setting, then the
// browser's Accept-Language in its order of preference, then the company's
// default, then English.
func (b *Bundle) Pick(userLang, acceptLanguage, companyLang string) string {
	if b.Has(userLang) {
		return userLang
	}
	if acceptLanguage != "" && len(acceptLanguage) < 512 {
		if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil {
			for _, tag := range tags {
				base, _ := tag.Base()
				code := base.String()
				if code == "no" || code == "nn" {
					code = "nb" // Norwegian readers read bokmål better than English
				}
				if b.Has(code) {
					return code
				}
			}
		}
	}
	if b.Has(companyLang) {
		return companyLang
	}
	return Fallback
}
