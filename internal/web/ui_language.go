package web

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LanguageCookie keeps the language a visitor chose before signing in.
const LanguageCookie = "__Host-kandidat_lang"

// handleLanguage remembers a visitor's choice of language and goes back to
// the page they came from (a local path only: no open redirect).
func (s *Server) handleLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if !s.I18n.Has(lang) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: LanguageCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// localPath returns p when it is a path on this site, else "/". A path
// with any control character (C0, DEL, C1), Unicode format character (such
// as U+202E, which reverses how the rest is shown) or line separator, or
// that is not UTF-8, is refused: browsers strip some of them, so what was
// checked would not be where the browser goes, and others disguise it.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') || len(p) > 2000 ||
		!utf8.ValidString(p) || strings.IndexFunc(p, unsafeInPath) >= 0 {
		return "/"
	}
	return p
}

// unsafeInPath reports the characters localPath refuses.
func unsafeInPath(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError
}
