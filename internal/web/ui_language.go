package web

import (
	"net/http"
	"strings"
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

// localPath returns p when it is a path on this site, else "/".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") || len(p) > 2000 {
		return "/"
	}
	return p
}
