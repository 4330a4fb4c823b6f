package filetype

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxNameRunes is the longest stored file name, extension included.
const MaxNameRunes = 120

// CleanName is the name a document of type t is stored and offered for
// download under: the base name of what the uploader called it, without
// path, control, invisible or look-alike characters, at most MaxNameRunes
// characters, ending in the extension of its real type. An empty result
// becomes "document".
//
// The name is the uploader's text shown to colleagues, so it must read as
// what it is: a right-to-left override (U+202E) turns "cv\u202Efdp.exe"
// into what looks like "cvexe.pdf"; zero-width characters hide text or make
// two names look alike. Every path that stores an uploaded file uses this
// function, so the rule lives here once.
func CleanName(name string, t Type) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(nameRune, name)
	// Normalise after removing: a removed character may have kept a
	// combining mark apart from its letter.
	name = norm.NFC.String(name)
	name = strings.TrimSpace(strings.Trim(name, ". "))
	ext := t.Extension()
	stem, suffix := name, ""
	if lower := strings.ToLower(name); strings.HasSuffix(lower, ext) {
		stem, suffix = name[:len(name)-len(ext)], name[len(name)-len(ext):]
	} else if t == JPEG && strings.HasSuffix(lower, ".jpeg") {
		stem, suffix = name[:len(name)-len(".jpeg")], name[len(name)-len(".jpeg"):]
	} else {
		suffix = ext
	}
	stem = strings.TrimRight(truncateRunes(stem, MaxNameRunes-utf8.RuneCountInString(suffix)), ". ")
	if stem == "" {
		stem = "document"
	}
	return stem + suffix
}

// nameRune keeps r in a file name, replaces it (spaces of every width
// become one kind of space) or drops it (-1).
func nameRune(r rune) rune {
	switch {
	case r == utf8.RuneError:
		return -1
	case strings.ContainsRune(`/\:*?"<>|`, r):
		return -1
	case invisible(r):
		return -1
	case unicode.Is(unicode.Zs, r):
		return ' '
	}
	return r
}

// invisible reports whether r is a character a reader cannot see or that
// changes how the text around it is shown: controls (C0, C1, DEL), format
// characters (bidi embeddings, overrides and isolates, the marks U+200E,
// U+200F and U+061C, zero-width spaces and joiners, the byte order mark,
// soft hyphen, tags), line and paragraph separators, private use, variation
// selectors and the other default-ignorable code points (the Hangul
// fillers, the combining grapheme joiner).
func invisible(r rune) bool {
	return unicode.IsControl(r) ||
		unicode.In(r, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) ||
		r >= 0xFFF0 && r <= 0xFFF8 || r == 0xFFFE || r == 0xFFFF || // specials the tables leave out
		!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) // unassigned
}

// truncateRunes keeps the first n runes of s (none when n <= 0).
func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
