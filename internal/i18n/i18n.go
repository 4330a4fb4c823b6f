// Package i18n holds the message catalogues of every language Kandidat
// speaks and picks the language of a person. The catalogues are embedded
// JSON files, one per language, with the same keys; a test fails when a key
// is missing in any of them. They live here rather than under web because
// emails and background jobs speak to people too.
//
// A message that shows a number of things has plural forms: its value in the
// catalogue is an object from CLDR plural category ("one", "few", "other", ...)
// to text, and the count chooses the form by the CLDR rules of the language
// (golang.org/x/text/feature/plural). English, Swedish and Norwegian need
// "one" and "other"; Czech and Slovak need "one" (1), "few" (2 to 4) and
// "other"; their "many" is for fractions, which no message counts.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFS embed.FS

// Languages Kandidat speaks, the fallback first.
var Languages = []string{"en", "sv", "nb", "sk", "cs"}

// Fallback is the language used when nothing else matches.
const Fallback = "en"

// CountArg is the argument of T whose integer value chooses the plural form
// of a message that has plural forms; the text shows it as {count}.
const CountArg = "count"

// Bundle holds every catalogue.
type Bundle struct {
	catalogues map[string]map[string]message
}

// message is one catalogue entry: a plain text, or plural forms.
type message struct {
	text  string
	forms map[string]string // CLDR category -> text; nil for a plain text
}

// categories maps the CLDR category names a catalogue may use to the forms
// of the plural package, which has no names of its own.
var categories = map[string]plural.Form{
	"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other,
}

// Load reads the embedded catalogues.
func Load() (*Bundle, error) {
	b := &Bundle{catalogues: map[string]map[string]message{}}
	for _, lang := range Languages {
		raw, err := localeFS.ReadFile(path.Join("locales", lang+".json"))
		if err != nil {
			return nil, fmt.Errorf("read catalogue %s: %w", lang, err)
		}
		m, err := parseCatalogue(raw)
		if err != nil {
			return nil, fmt.Errorf("parse catalogue %s: %w", lang, err)
		}
		b.catalogues[lang] = m
	}
	return b, nil
}

// parseCatalogue reads a catalogue whose values are texts or objects of
// plural forms. A plural entry must have "other", the form every language
// falls back to, and only category names CLDR knows.
func parseCatalogue(raw []byte) (map[string]message, error) {
	entries := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, err
	}
	m := make(map[string]message, len(entries))
	for key, v := range entries {
		var text string
		if err := json.Unmarshal(v, &text); err == nil {
			m[key] = message{text: text}
			continue
		}
		forms := map[string]string{}
		if err := json.Unmarshal(v, &forms); err != nil {
			return nil, fmt.Errorf("key %q: neither a text nor plural forms: %w", key, err)
		}
		for cat := range forms {
			if _, ok := categories[cat]; !ok {
				return nil, fmt.Errorf("key %q: unknown plural category %q", key, cat)
			}
		}
		if _, ok := forms["other"]; !ok {
			return nil, fmt.Errorf("key %q: plural forms lack \"other\"", key)
		}
		m[key] = message{text: forms["other"], forms: forms}
	}
	return m, nil
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

// Forms returns the plural forms of key in lang by CLDR category, or nil
// when the message has no plural forms.
func (b *Bundle) Forms(lang, key string) map[string]string {
	return b.catalogues[lang][key].forms
}

// Categories returns the CLDR plural categories lang uses for whole
// numbers, the forms a plural message in lang must have, sorted.
func Categories(lang string) []string {
	tag := language.Make(lang)
	seen := map[plural.Form]bool{}
	// The rules of Kandidat's languages look at n, n % 10 and n % 100, so
	// the first thousand whole numbers show every form they use.
	for n := range 1000 {
		seen[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)] = true
	}
	var cats []string
	for name, f := range categories {
		if seen[f] {
			cats = append(cats, name)
		}
	}
	sort.Strings(cats)
	return cats
}

// Category returns the CLDR plural category of the whole number n in lang.
func Category(lang string, n int64) string {
	if n == math.MinInt64 {
		n++ // has no absolute value; ends in 7 rather than 8, the same form
	}
	if n < 0 {
		n = -n // the rules look at the absolute value
	}
	f := plural.Cardinal.MatchPlural(language.Make(lang), int(n), 0, 0, 0, 0)
	for name, c := range categories {
		if c == f {
			return name
		}
	}
	return "other"
}

// N returns the message key in lang in the plural form n asks for, with
// {count} showing n and the other placeholders replaced as T does.
func (b *Bundle) N(lang, key string, n int, args ...any) string {
	return b.T(lang, key, append([]any{CountArg, n}, args...)...)
}

// T returns the message key in lang with {name} placeholders replaced by
// the pairs in args ("name", value, ...). A missing key shows as the key
// itself, so it is noticed rather than hidden. A message with plural forms
// takes the form its "count" argument asks for (see N); without a whole
// number there it shows its "other" form.
func (b *Bundle) T(lang, key string, args ...any) string {
	m, ok := b.catalogues[lang][key]
	if !ok {
		// The English text follows the English plural rules.
		if m, ok = b.catalogues[Fallback][key]; !ok {
			return key
		}
		lang = Fallback
	}
	msg := m.text
	if m.forms != nil {
		if n, ok := countOf(args); ok {
			if form, ok := m.forms[Category(lang, n)]; ok {
				msg = form
			}
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

// countOf finds the whole number given as the "count" argument.
func countOf(args []any) (int64, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] != CountArg {
			continue
		}
		switch v := args[i+1].(type) {
		case int:
			return int64(v), true
		case int8:
			return int64(v), true
		case int16:
			return int64(v), true
		case int32:
			return int64(v), true
		case int64:
			return v, true
		case uint:
			return bigUint(uint64(v)), true
		case uint8:
			return int64(v), true
		case uint16:
			return int64(v), true
		case uint32:
			return int64(v), true
		case uint64:
			return bigUint(v), true
		}
		return 0, false
	}
	return 0, false
}

// bigUint brings an unsigned count into int64 with the same plural form:
// past a billion the rules look only at whether the number is that large
// and at its last digits, which n % 1e9 + 1e9 keeps.
func bigUint(v uint64) int64 {
	if v > math.MaxInt64 {
		return int64(v%1e9 + 1e9)
	}
	return int64(v)
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
