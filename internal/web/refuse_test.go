package web

import (
	"errors"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/recruit"
)

// TestEveryKindHasAStatus: the one table answers every kind of refusal,
// whoever declared the sentinel and however deep it is wrapped.
func TestEveryKindHasAStatus(t *testing.T) {
	for _, k := range fault.Kinds {
		if statuses[k] == 0 {
			t.Errorf("kind %q has no status", k)
		}
	}
	cases := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("set role: %w", account.ErrLastAdministrator), http.StatusConflict},
		{fmt.Errorf("publish: %w", credit.ErrLimitReached), http.StatusPaymentRequired},
		{recruit.ErrNotFound, http.StatusNotFound},
		{account.ErrTooManyAttempts, http.StatusTooManyRequests},
		{fault.Field("name", "error.name"), http.StatusUnprocessableEntity},
		{fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 1}), http.StatusRequestEntityTooLarge},
		{errors.New("disk full"), http.StatusInternalServerError},
	}
	for _, c := range cases {
		if got := statusOf(c.err); got != c.want {
			t.Errorf("statusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// TestKeepPostedLeavesSecretsOut: a form shown again keeps what was typed,
// over the page's own values, but never a password, code or token.
func TestKeepPostedLeavesSecretsOut(t *testing.T) {
	form := url.Values{"name": {"new"}, "login": {"ada"}, "password": {"p1"}, "new_password": {"p2"}, "confirm_password": {"p3"},
		"code": {"123456"}, "recovery_code": {"abcd"}, "token": {"t"}, "Invite_Token": {"t"}}
	r := httptest.NewRequest("POST", "/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	pg := &page{Form: map[string]string{"name": "old", "language": "sv"}}
	keepPosted(pg, r)
	if want := map[string]string{"name": "new", "login": "ada", "language": "sv"}; !maps.Equal(pg.Form, want) {
		t.Fatalf("Form = %v, want %v", pg.Form, want)
	}
}

// TestRefusedFormsShowNoSecret: refused sign-in and password forms answer
// with their status and message, keep the login, and send no password
// back to the browser.
func TestRefusedFormsShowNoSecret(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	T := func(key string) string { return html.EscapeString(f.srv.I18n.T("en", key)) }
	const wrong, fresh, other = "Wrong-Secret-991", "Fresh-Secret-417", "Other-Secret-418"

	res := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {wrong}}})
	b := body(t, res)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(b, T("signin.failed")) || !strings.Contains(b, `value="ada"`) {
		t.Fatalf("failed sign-in: status %d, want 401 with the message and the login kept", res.StatusCode)
	}
	if strings.Contains(b, wrong) {
		t.Fatal("the failed sign-in page holds the password")
	}

	tok := f.signIn("ada", testPassword)
	for _, c := range []struct {
		name           string
		form           url.Values
		field, message string
	}{
		{"mismatch", url.Values{"current_password": {testPassword}, "new_password": {fresh}, "confirm_password": {other}},
			"confirm_password", "error.password_mismatch"},
		{"wrong current", url.Values{"current_password": {wrong}, "new_password": {fresh}, "confirm_password": {fresh}},
			"current_password", "error.current_password"},
	} {
		res := f.do(request{method: "POST", path: "/password", cookie: tok, form: c.form})
		b := body(t, res)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `<p class="field-error" id="`+c.field+`-error">`+T(c.message)) {
			t.Errorf("%s: status %d, want 422 with %s beside %s", c.name, res.StatusCode, c.message, c.field)
		}
		for _, secret := range []string{testPassword, wrong, fresh, other} {
			if strings.Contains(b, secret) {
				t.Errorf("%s: the page holds a password", c.name)
			}
		}
	}
}
