package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPasswordStrengthMessages: the change-password form refuses a password
// that is easy to guess and says, beside the field and in the user's
// language, what makes it so.
func TestPasswordStrengthMessages(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", true)
	tok := f.signIn("ada", testPassword)
	for _, c := range []struct{ password, lang, want string }{
		{"abcdef12", "en", "mostly a sequence (like abcdef or 654321)"},
		{"zxcvbnm,./1", "en", "follows a pattern on the keyboard"},
		{"Princess1", "en", "too common"},
		{"qqqqqqq9", "sv", "upprepar tecken eller ord"},
		{"19870512ab", "cs", "Data a letopočty se snadno uhodnou"},
		{"mxyzmxyz-77", "nb", "gjentar tegn eller ord"},
		{"winter-sun-19", "en", ""},
	} {
		form := url.Values{"current_password": {testPassword}, "new_password": {c.password}, "confirm_password": {c.password}}
		res := f.do(request{method: "POST", path: "/password", cookie: tok, header: map[string]string{"Accept-Language": c.lang}, form: form})
		b := body(t, res)
		if c.want == "" {
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("%q: %d, want the change accepted", c.password, res.StatusCode)
			}
			continue
		}
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, c.want) ||
			!strings.Contains(b, `aria-describedby="new_password-error"`) {
			t.Errorf("%q (%s): %d, want 422 saying %q beside the field", c.password, c.lang, res.StatusCode, c.want)
		}
	}
}
