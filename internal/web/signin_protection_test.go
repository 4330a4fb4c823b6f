package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/notify"
)

// lockoutFixture is the web fixture whose account service emails (unlock
// and reset links go to the queue) and a user with an email address.
func lockoutFixture(t *testing.T) (*fixture, *account.User) {
	t.Helper()
	f := newFixture(t, Options{})
	f.useAccounts(account.Options{ThrottleBase: time.Millisecond, Queue: f.queue, BaseURL: "https://jobs.example"})
	u, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
		Login: "ada", Email: "ada@acme.example", DisplayName: "Ada", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	return f, u
}

// browser is a cookie jar of one browser, for requests through the fixture.
type browser struct {
	f       *fixture
	cookies map[string]string
}

func (f *fixture) browser() *browser { return &browser{f: f, cookies: map[string]string{}} }

// do sends a request with the browser's cookies and keeps those it is given.
func (b *browser) do(method, path string, form url.Values) *http.Response {
	b.f.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://127.0.0.1:8080")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req = httptest.NewRequest(method, "http://127.0.0.1:8080"+path, nil)
	}
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	rec := httptest.NewRecorder()
	b.f.h.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return res
}

func (b *browser) signIn(login, password string) *http.Response {
	return b.do("POST", "/signin", url.Values{"login": {login}, "password": {password}})
}

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// queuedLinks returns the links under path in the queued emails, in order.
func queuedLinks(t *testing.T, f *fixture, path string) []string {
	t.Helper()
	rows, err := f.db.Read.Query(`SELECT message FROM email_queue ORDER BY created_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var raw string
		rows.Scan(&raw)
		var m notify.Message
		json.Unmarshal([]byte(raw), &m)
		if i := strings.Index(m.Text, path); i >= 0 {
			out = append(out, strings.Fields(m.Text[i+len(path):])[0])
		}
	}
	return out
}

// lockAda has another browser lock ada's account with wrong passwords.
func lockAda(t *testing.T, f *fixture) {
	t.Helper()
	attacker := f.browser()
	for range account.DefaultMaxFailures {
		if res := attacker.signIn("ada", "wrong-Pass-1"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", res.StatusCode)
		}
	}
}

func TestDeviceCookieAfterFullSignIn(t *testing.T) {
	f, u := lockoutFixture(t)
	res := f.browser().signIn("ada", testPassword)
	c := cookieNamed(res, DeviceCookie)
	if res.StatusCode != http.StatusSeeOther || c == nil {
		t.Fatalf("sign-in: %d, device cookie %v", res.StatusCode, c)
	}
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || !strings.HasPrefix(c.Name, "__Host-") {
		t.Fatalf("device cookie %+v: want __Host-, Secure, HttpOnly, SameSite=Strict, Path=/", c)
	}
	if c.MaxAge <= 0 || c.MaxAge > int(account.DeviceLifetime.Seconds()) {
		t.Fatalf("device cookie lives %d s", c.MaxAge)
	}
	// With a second step due, the browser is not trusted yet.
	if _, err := f.db.Write.Exec(`UPDATE users SET mfa_email = TRUE WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	res = f.browser().signIn("ada", testPassword)
	if res.Header.Get("Location") != "/signin/mfa" || cookieNamed(res, DeviceCookie) != nil {
		t.Fatalf("password only: to %q with device cookie %v, want /signin/mfa and none", res.Header.Get("Location"), cookieNamed(res, DeviceCookie))
	}
}

// TestOwnerBrowserSignsInDuringALock: someone else's wrong passwords lock
// the account for unknown browsers (the right password from one is
// refused), but the owner's browser, which signed in before, gets in.
func TestOwnerBrowserSignsInDuringALock(t *testing.T) {
	f, _ := lockoutFixture(t)
	owner := f.browser()
	owner.signIn("ada", testPassword)
	owner.do("POST", "/signout", url.Values{})
	if owner.cookies[DeviceCookie] == "" {
		t.Fatal("no device cookie kept")
	}
	lockAda(t, f)
	if res := f.browser().signIn("ada", testPassword); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unknown browser with the right password during the lock: %d, want 401", res.StatusCode)
	}
	res := owner.signIn("ada", testPassword)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
		t.Fatalf("the owner's browser during the lock: %d to %q, want 303 to /dashboard", res.StatusCode, res.Header.Get("Location"))
	}
	// A forged device cookie is worth nothing.
	forged := f.browser()
	forged.cookies[DeviceCookie] = owner.cookies[DeviceCookie][:len(owner.cookies[DeviceCookie])-2] + "AA"
	if res := forged.signIn("ada", testPassword); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged device cookie during the lock: %d, want 401", res.StatusCode)
	}
	if n := len(queuedLinks(t, f, "/unlock/")); n != 1 {
		t.Fatalf("%d unlock emails, want 1", n)
	}
}

// TestUnlockLinkSignsInWithThePassword: the emailed link asks for the
// password, then signs the browser in and makes it a trusted device.
func TestUnlockLinkSignsInWithThePassword(t *testing.T) {
	f, _ := lockoutFixture(t)
	lockAda(t, f)
	links := queuedLinks(t, f, "/unlock/")
	if len(links) != 1 {
		t.Fatalf("%d unlock emails, want 1", len(links))
	}
	owner := f.browser()
	res := owner.do("GET", "/unlock/"+links[0], nil)
	if b := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, `type="password"`) {
		t.Fatalf("unlock page: %d\n%s", res.StatusCode, b)
	}
	res = owner.do("POST", "/unlock/"+links[0], url.Values{"password": {"wrong-Pass-1"}})
	if b := body(t, res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(b, `id="password-error"`) || owner.cookies[SessionCookie] != "" {
		t.Fatalf("wrong password at the link: %d\n%s", res.StatusCode, b)
	}
	res = owner.do("POST", "/unlock/"+links[0], url.Values{"password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" || owner.cookies[SessionCookie] == "" || owner.cookies[DeviceCookie] == "" {
		t.Fatalf("right password at the link: %d to %q, cookies %v", res.StatusCode, res.Header.Get("Location"), owner.cookies)
	}
	if res := owner.do("GET", "/dashboard", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("dashboard after the link: %d", res.StatusCode)
	}
	if res := owner.do("POST", "/unlock/"+links[0], url.Values{"password": {testPassword}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("the link again: %d, want 404", res.StatusCode)
	}
	// Still locked for others; this browser signs in again.
	owner.do("POST", "/signout", url.Values{})
	if res := f.browser().signIn("ada", testPassword); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("another browser after the link: %d, want 401", res.StatusCode)
	}
	if res := owner.signIn("ada", testPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the link's browser again: %d, want 303", res.StatusCode)
	}
}

// TestStolenSessionIsNoPasswordOracle: wrong passwords at re-authentication
// and at the password change lock the account, after which the right one
// is refused there too.
func TestStolenSessionIsNoPasswordOracle(t *testing.T) {
	for _, tc := range []struct {
		path string
		form func(password string) url.Values
		fail int
	}{
		{"/reauth", func(p string) url.Values { return url.Values{"password": {p}, "next": {"/account/mfa"}} }, http.StatusUnauthorized},
		{"/password", func(p string) url.Values {
			return url.Values{"current_password": {p}, "new_password": {"another-Pass-77"}, "confirm_password": {"another-Pass-77"}}
		}, http.StatusUnprocessableEntity},
	} {
		t.Run(tc.path, func(t *testing.T) {
			f, u := lockoutFixture(t)
			thief := f.browser()
			tok, err := f.accounts.StartSession(context.Background(), u.TenantID, u.ID, account.Client{})
			if err != nil {
				t.Fatal(err)
			}
			thief.cookies[SessionCookie] = tok
			for i := range account.DefaultMaxFailures {
				if res := thief.do("POST", tc.path, tc.form("guess-Pass-"+string(rune('a'+i)))); res.StatusCode != tc.fail {
					t.Fatalf("wrong password %d: %d, want %d", i, res.StatusCode, tc.fail)
				}
			}
			if n := len(queuedLinks(t, f, "/unlock/")); n != 1 {
				t.Fatalf("%d unlock emails after five wrong passwords, want 1", n)
			}
			if res := thief.do("POST", tc.path, tc.form(testPassword)); res.StatusCode != tc.fail {
				t.Fatalf("right password during the lock: %d, want %d", res.StatusCode, tc.fail)
			}
			if res := f.browser().signIn("ada", testPassword); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("sign-in during the lock: %d, want 401", res.StatusCode)
			}
		})
	}
}

// TestResetLinkTrustsTheBrowser: the browser that set a new password through
// the emailed link gets a device cookie.
func TestResetLinkTrustsTheBrowser(t *testing.T) {
	f, _ := lockoutFixture(t)
	owner := f.browser()
	owner.do("POST", "/password/forgot", url.Values{"identifier": {"ada@acme.example"}})
	links := queuedLinks(t, f, "/password/reset/")
	if len(links) != 1 {
		t.Fatalf("%d reset emails, want 1", len(links))
	}
	res := owner.do("POST", "/password/reset/"+links[0], url.Values{"new_password": {"another-Pass-77"}, "confirm_password": {"another-Pass-77"}})
	if res.StatusCode != http.StatusSeeOther || owner.cookies[DeviceCookie] == "" {
		t.Fatalf("reset: %d, cookies %v", res.StatusCode, owner.cookies)
	}
	lockAda(t, f)
	if res := owner.signIn("ada", "another-Pass-77"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the reset link's browser during a lock: %d, want 303", res.StatusCode)
	}
}

func TestLocalPath(t *testing.T) {
	for _, p := range []string{"/", "/dashboard", "/account/mfa?x=1#y", "/candidates?q=%C3%A5", "/positions/é"} {
		if got := localPath(p); got != p {
			t.Errorf("localPath(%q) = %q, want it kept", p, got)
		}
	}
	for _, p := range []string{"", "dashboard", "//evil.example", "/\\evil.example", "https://evil.example/", "/\t/evil.example",
		"/a\x00b", "/a\rb", "/a\nb", "/a\x1bb", "/a\x7fb", "/a\u0085b", "/a\u009bb", "/a\u202eb", "/a\u200bb", "/a\u2066b",
		"/a\ufeffb", "/a\u00adb", "/a\u2028b", "/a\xffb", "/" + strings.Repeat("a", 2001)} {
		if got := localPath(p); got != "/" {
			t.Errorf("localPath(%q) = %q, want /", p, got)
		}
	}
	// Through the re-authentication form, whose next is where the browser goes.
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	res := f.do(request{method: "POST", path: "/reauth", cookie: tok, form: url.Values{"password": {testPassword}, "next": {"/dashboard\u202e"}}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("next with U+202E: %d to %q, want 303 to /", res.StatusCode, res.Header.Get("Location"))
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/dashboard", "//x", "/\u202e", "/a\x85", "/%0d%0a", "/\\x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := localPath(p)
		if got != "/" && got != p {
			t.Fatalf("localPath(%q) = %q: neither the input nor /", p, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsRune(got, '\\') || !utf8.ValidString(got) {
			t.Fatalf("localPath(%q) = %q: not a local path", p, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("localPath(%q) = %q keeps %U", p, got, r)
			}
		}
	})
}
