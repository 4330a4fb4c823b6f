package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/audit"
	"github.com/kandidat/kandidat/internal/blob"
	"github.com/kandidat/kandidat/internal/credit"
	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/importer"
	"github.com/kandidat/kandidat/internal/notify"
	"github.com/kandidat/kandidat/internal/recruit"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/testkit"
	"github.com/kandidat/kandidat/internal/webhook"
)

// fixture is the real web layer over real services and a real database.
type fixture struct {
	t        testing.TB
	kit      *testkit.Kit
	srv      *Server
	h        http.Handler
	accounts *account.Service
	tenants  *tenant.Service
	audit    *audit.Log
	credits  *credit.Service
	recruit  *recruit.Service
	blobs    *blob.Store
	queue    *notify.Queue
	db       *db.DB
	company  *tenant.Tenant
	ready    error
}

const testPassword = "initial-Pass-42"

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	return newFixtureOn(t, dbtest.Open(t), opts)
}

// newFixtureOn is newFixture on a database the test opened (e.g. traced).
func newFixtureOn(t testing.TB, d *db.DB, opts Options) *fixture {
	t.Helper()
	k := testkit.New(t, testkit.Options{DB: d, Account: account.Options{ThrottleBase: time.Millisecond}})
	f := &fixture{t: t, kit: k, db: d, audit: k.Audit, tenants: k.Tenants, accounts: k.Accounts, credits: k.Credits, recruit: k.Recruit,
		blobs: k.Blobs, queue: k.Queue}
	var err error
	f.srv, err = New(Deps{
		Accounts: f.accounts, Tenants: f.tenants, Audit: f.audit, I18n: k.I18n, Recruit: f.recruit, Credits: f.credits, Privacy: k.Privacy,
		Webhooks: webhook.NewService(d, webhook.Options{Audit: k.Audit, Keys: k.Keys}),
		Whistle:  k.Whistle,
		Importer: importer.NewService(d, importer.Options{Recruit: f.recruit, Audit: f.audit, Blobs: k.Blobs}),
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Ready:    func(context.Context) error { return f.ready },
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.h = f.srv.Handler()
	f.company = k.Company(t, tenant.CreateInput{Slug: "acme", Name: "ACME Ltd"})
	return f
}

// useAccounts puts an account service with other options (the email
// queue, a slower throttle) behind the fixture's pages.
func (f *fixture) useAccounts(o account.Options) {
	f.accounts = f.kit.NewAccounts(o)
	f.srv.Accounts = f.accounts
	f.h = f.srv.Handler()
}

func (f *fixture) user(login string, mustChange bool) *account.User {
	f.t.Helper()
	u, err := f.accounts.CreateUser(context.Background(), access.Operator(f.company.ID), account.CreateUserInput{
		Login: login, DisplayName: "Ada " + login, Password: testPassword, MustChangePassword: mustChange,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

type request struct {
	method, path string
	form         url.Values
	cookie       string
	header       map[string]string
	// body and contentType send a raw body (e.g. multipart) instead of form.
	body        io.Reader
	contentType string
}

func (f *fixture) do(r request) *http.Response {
	f.t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	if r.body != nil {
		body = r.body
	}
	req := httptest.NewRequest(r.method, "http://127.0.0.1:8080"+r.path, body)
	if r.form != nil || r.body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		req.Header.Set("Origin", "http://127.0.0.1:8080")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if r.cookie != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: r.cookie})
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sessionCookie(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

func (f *fixture) signIn(login, password string) string {
	f.t.Helper()
	res := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {login}, "password": {password}}})
	c := sessionCookie(res)
	if res.StatusCode != http.StatusSeeOther || c == nil || c.Value == "" {
		f.t.Fatalf("sign-in: got status %d cookie %v, want 303 with a session cookie", res.StatusCode, c)
	}
	return c.Value
}

func TestSessionCookieAttributes(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	res := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {testPassword}}})
	c := sessionCookie(res)
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("cookie %+v: want Secure, HttpOnly, SameSite=Lax, Path=/, no Domain", c)
	}
	if !strings.HasPrefix(c.Name, "__Host-") {
		t.Fatalf("cookie name %q: want the __Host- prefix", c.Name)
	}
	if len(c.Value) != 43 {
		t.Fatalf("cookie value has %d characters, want 43 (256 bits, base64url)", len(c.Value))
	}
	if loc := res.Header.Get("Location"); loc != "/dashboard" {
		t.Fatalf("redirect to %q, want /dashboard", loc)
	}
}

func TestWrongPasswordSetsNoCookie(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	for _, tt := range []struct{ name, login, password string }{
		{"wrong password", "ada", "nope-nope-1"},
		{"unknown user", "bob", testPassword},
		{"empty", "", ""},
		{"invalid UTF-8", "ada\xff", "x\xfe"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {tt.login}, "password": {tt.password}}})
			b := body(t, res)
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", res.StatusCode)
			}
			if c := sessionCookie(res); c != nil {
				t.Fatalf("got cookie %v, want none", c)
			}
			if !strings.Contains(b, `id="signin-error"`) || !strings.Contains(b, "not correct") {
				t.Fatalf("body lacks the sign-in error:\n%s", b)
			}
		})
	}
}

func TestSameAnswerForUnknownAndDisabledUsers(t *testing.T) {
	f := newFixture(t, Options{})
	u := f.user("ada", false)
	if err := f.accounts.SetStatus(context.Background(), access.Operator(f.company.ID), u.ID, account.Disabled); err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string { return regexp.MustCompile(`nonce-[^']+|value="[^"]*"`).ReplaceAllString(s, "") }
	a := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {testPassword}}})
	b := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"zed"}, "password": {testPassword}}})
	if a.StatusCode != b.StatusCode || norm(body(t, a)) != norm(body(t, b)) {
		t.Fatal("a disabled account and an unknown login get different answers")
	}
}

func TestForcedPasswordChange(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", true)
	res := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {testPassword}}})
	if loc := res.Header.Get("Location"); loc != "/password" {
		t.Fatalf("redirect to %q, want /password", loc)
	}
	tok := sessionCookie(res).Value
	res = f.do(request{method: "GET", path: "/dashboard", cookie: tok})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/password" {
		t.Fatalf("dashboard before the change: %d to %q, want 303 to /password", res.StatusCode, res.Header.Get("Location"))
	}
	// A weak new password is refused with a message.
	res = f.do(request{method: "POST", path: "/password", cookie: tok, form: url.Values{
		"current_password": {testPassword}, "new_password": {"short"}, "confirm_password": {"short"}}})
	if b := body(t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "too short") {
		t.Fatalf("weak password: status %d, want 422 with a message", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/password", cookie: tok, form: url.Values{
		"current_password": {testPassword}, "new_password": {"brand-New-pass-7"}, "confirm_password": {"brand-New-pass-7"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: status %d, want 303", res.StatusCode)
	}
	fresh := sessionCookie(res)
	if fresh == nil || fresh.Value == tok {
		t.Fatal("no new session after the password change")
	}
	// The old session ended with the change.
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: tok}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("old session: %d to %q, want a redirect to /signin", res.StatusCode, res.Header.Get("Location"))
	}
	res = f.do(request{method: "GET", path: "/dashboard", cookie: fresh.Value})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(b, "ACME Ltd") || !strings.Contains(b, "Ada ada") {
		t.Fatalf("dashboard: status %d, want 200 naming the company and the user:\n%s", res.StatusCode, b)
	}
}

func TestSignOutEndsSessionOnServer(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: tok}); res.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d, want 200", res.StatusCode)
	}
	res := f.do(request{method: "POST", path: "/signout", cookie: tok, form: url.Values{}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d, want 303", res.StatusCode)
	}
	if c := sessionCookie(res); c == nil || c.MaxAge >= 0 {
		t.Fatalf("sign-out cookie %v, want one that deletes the session cookie", c)
	}
	// Replaying the old cookie does not work: the session is gone on the server.
	if _, err := f.accounts.Authenticate(context.Background(), tok); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("after sign-out: %v, want ErrNoSession", err)
	}
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: tok}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("replayed cookie: %d, want a redirect to sign-in", res.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	start := time.Now()
	f.accounts.SetClock(func() time.Time { return start.Add(31 * time.Minute) })
	if res := f.do(request{method: "GET", path: "/dashboard", cookie: tok}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("after the idle timeout: %d to %q, want a redirect to /signin", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, Options{TLS: true})
	res := f.do(request{method: "GET", path: "/signin"})
	h := res.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "'nonce-", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	other := f.do(request{method: "GET", path: "/signin"}).Header.Get("Content-Security-Policy")
	if other == csp {
		t.Error("two responses share a nonce")
	}
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin",
		"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	plain := newFixture(t, Options{})
	if got := plain.do(request{method: "GET", path: "/signin"}).Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS over plain HTTP: %q, want none", got)
	}
}

func TestCrossOriginPostRejected(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	res := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {testPassword}},
		header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}})
	if res.StatusCode != http.StatusForbidden || sessionCookie(res) != nil {
		t.Fatalf("cross-site sign-in: %d, want 403 and no cookie", res.StatusCode)
	}
	// A browser without Sec-Fetch-Site, posting from this host name under
	// another scheme (a page on https://host to a site on http://host).
	res = f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {testPassword}},
		header: map[string]string{"Sec-Fetch-Site": "", "Origin": "https://127.0.0.1:8080"}})
	if res.StatusCode != http.StatusForbidden || sessionCookie(res) != nil {
		t.Fatalf("sign-in from the other scheme: %d, want 403 and no cookie", res.StatusCode)
	}
	res = f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {"ada"}, "password": {testPassword}},
		header: map[string]string{"Sec-Fetch-Site": "", "Origin": "http://127.0.0.1:8080"}})
	if res.StatusCode == http.StatusForbidden {
		t.Fatalf("sign-in from this origin without Sec-Fetch-Site: %d", res.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, Options{MaxBodyBytes: 2048})
	res := f.do(request{method: "POST", path: "/signin", form: url.Values{"login": {strings.Repeat("a", 5000)}, "password": {"x"}}})
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized form: %d, want 413", res.StatusCode)
	}
	if b := body(t, res); !strings.Contains(b, "larger than this server accepts") {
		t.Fatalf("413 page lacks its message:\n%s", b)
	}
}

func TestTranslatedErrorPages(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tt := range []struct{ lang, want string }{
		{"", "Page not found"},
		{"en-GB,en;q=0.9", "Page not found"},
		{"sv-SE,sv;q=0.9", ""},
		{"cs", ""},
	} {
		res := f.do(request{method: "GET", path: "/no/such/page", header: map[string]string{"Accept-Language": tt.lang}})
		b := body(t, res)
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("%q: status %d, want 404", tt.lang, res.StatusCode)
		}
		wantLang := "en"
		if tt.lang != "" {
			wantLang = tt.lang[:2]
		}
		if got := res.Header.Get("Content-Language"); got != wantLang {
			t.Errorf("Accept-Language %q: Content-Language %q, want %q", tt.lang, got, wantLang)
		}
		if tt.want != "" && !strings.Contains(b, tt.want) {
			t.Errorf("Accept-Language %q: body lacks %q", tt.lang, tt.want)
		}
		if !strings.Contains(b, `lang="`+wantLang+`"`) {
			t.Errorf("Accept-Language %q: page not marked lang=%q", tt.lang, wantLang)
		}
	}
}

func TestPanicShows500WithRequestID(t *testing.T) {
	f := newFixture(t, Options{})
	h := f.srv.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != http.StatusInternalServerError || id == "" || !strings.Contains(rec.Body.String(), id) {
		t.Fatalf("panic: status %d, request id %q in body: %v; want 500 showing the id", rec.Code, id, strings.Contains(rec.Body.String(), id))
	}
	if strings.Contains(rec.Body.String(), "boom") {
		t.Fatal("the panic value reached the client")
	}
}

func TestHealthReadyAndDrain(t *testing.T) {
	f := newFixture(t, Options{})
	if res := f.do(request{method: "GET", path: "/healthz"}); res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/readyz"}); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %d", res.StatusCode)
	}
	f.ready = errors.New("database down")
	if res := f.do(request{method: "GET", path: "/readyz"}); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database down: %d, want 503", res.StatusCode)
	}
	f.ready = nil
	f.srv.Drain()
	if res := f.do(request{method: "GET", path: "/readyz"}); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d, want 503", res.StatusCode)
	}
}

func TestMetricsProtected(t *testing.T) {
	closed := newFixture(t, Options{})
	if res := closed.do(request{method: "GET", path: "/metrics"}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("metrics without a token configured: %d, want 404", res.StatusCode)
	}
	f := newFixture(t, Options{MetricsToken: "0123456789abcdef-token"})
	f.do(request{method: "GET", path: "/signin"})
	if res := f.do(request{method: "GET", path: "/metrics"}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("metrics without a bearer: %d, want 401", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/metrics", header: map[string]string{"Authorization": "Bearer wrong"}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("metrics with a wrong bearer: %d, want 401", res.StatusCode)
	}
	res := f.do(request{method: "GET", path: "/metrics", header: map[string]string{"Authorization": "Bearer 0123456789abcdef-token"}})
	b := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(b, `kandidat_http_requests_total{code="200",method="GET",route="GET /signin"}`) {
		t.Fatalf("metrics: %d, want 200 with the request counter:\n%.2000s", res.StatusCode, b)
	}
	admin := httptest.NewRecorder()
	f.srv.AdminHandler().ServeHTTP(admin, httptest.NewRequest("GET", "/metrics", nil))
	if admin.Code != http.StatusOK {
		t.Fatalf("admin metrics: %d, want 200", admin.Code)
	}
}

func TestModuleGate(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	mux := http.NewServeMux()
	mux.Handle("GET /reports", f.srv.staff(func(w http.ResponseWriter, r *http.Request) {
		f.srv.requireModule(tenant.Whistleblowing, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("reports")) })).ServeHTTP(w, r)
	}))
	h := f.srv.middleware(mux)
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/reports", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := get(); rec.Code != http.StatusNotFound {
		t.Fatalf("module off: %d, want 404", rec.Code)
	}
	if err := f.tenants.SetModules(context.Background(), audit.Operator, f.company.ID, []tenant.Module{tenant.Whistleblowing}); err != nil {
		t.Fatal(err)
	}
	if rec := get(); rec.Code != http.StatusOK || rec.Body.String() != "reports" {
		t.Fatalf("module on: %d %q, want 200", rec.Code, rec.Body.String())
	}
}

func TestTrustedProxyHeaders(t *testing.T) {
	f := newFixture(t, Options{})
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "203.0.113.9:4000"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	req.Header.Set("X-Forwarded-Proto", "https")
	if ip, https := f.srv.clientInfo(req); ip != "203.0.113.9" || https {
		t.Fatalf("untrusted peer: got %s https=%v, want the peer address and plain HTTP", ip, https)
	}
	f.srv.opts.TrustedProxies = mustPrefixes(t, "203.0.113.0/24")
	if ip, https := f.srv.clientInfo(req); ip != "198.51.100.1" || !https {
		t.Fatalf("trusted proxy: got %s https=%v, want the forwarded client over HTTPS", ip, https)
	}
}

func TestSetupOnce(t *testing.T) {
	f := newFixture(t, Options{})
	token, err := f.accounts.NewSetupToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res := f.do(request{method: "GET", path: "/setup/wrong-token"}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("wrong token: %d, want 404", res.StatusCode)
	}
	if res := f.do(request{method: "GET", path: "/setup/" + token}); res.StatusCode != http.StatusOK {
		t.Fatalf("setup form: %d, want 200", res.StatusCode)
	}
	form := url.Values{"company_name": {"Nordic Jobs AB"}, "slug": {"nordic"}, "default_language": {"sv"},
		"display_name": {"Greta"}, "login": {"greta"}, "password": {"Nordic-pass-2026"}, "confirm_password": {"Nordic-pass-2026"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("slug", "Not A Slug!")
	if res := f.do(request{method: "POST", path: "/setup/" + token, form: bad}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad slug: %d, want 422", res.StatusCode)
	}
	res := f.do(request{method: "POST", path: "/setup/" + token, form: form})
	if res.StatusCode != http.StatusSeeOther || sessionCookie(res) == nil {
		t.Fatalf("setup: %d, want 303 with a session", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/setup/" + token, form: form}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("second use: %d, want 404", res.StatusCode)
	}
	if _, err := f.tenants.BySlug(context.Background(), "nordic"); err != nil {
		t.Fatalf("company not created: %v", err)
	}
}

func TestStaticAssets(t *testing.T) {
	f := newFixture(t, Options{})
	res := f.do(request{method: "GET", path: "/static/app.css"})
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("app.css: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/static/", "/static/nope.js", "/templates/layout.html", "/static/%2e%2e/templates/layout.html"} {
		if res := f.do(request{method: "GET", path: p}); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}

func TestProfileLanguageWinsOverBrowser(t *testing.T) {
	f := newFixture(t, Options{})
	f.user("ada", false)
	tok := f.signIn("ada", testPassword)
	en := map[string]string{"Accept-Language": "en-GB"}
	if res := f.do(request{method: "POST", path: "/profile", cookie: tok, form: url.Values{"display_name": {"Ada L"}, "language": {"klingon"}}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown language: %d, want 422", res.StatusCode)
	}
	if res := f.do(request{method: "POST", path: "/profile", cookie: tok, form: url.Values{"display_name": {"  "}, "language": {"sv"}}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("empty name: %d, want 422", res.StatusCode)
	}
	res := f.do(request{method: "POST", path: "/profile", cookie: tok, form: url.Values{"display_name": {"Ada L"}, "language": {"sv"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d, want 303", res.StatusCode)
	}
	res = f.do(request{method: "GET", path: "/dashboard", cookie: tok, header: en})
	b := body(t, res)
	if res.Header.Get("Content-Language") != "sv" || !strings.Contains(b, "Ada L") {
		t.Fatalf("after choosing Swedish: Content-Language %q; want sv and the new name", res.Header.Get("Content-Language"))
	}
	// Back to following the browser.
	f.do(request{method: "POST", path: "/profile", cookie: tok, form: url.Values{"display_name": {"Ada L"}, "language": {""}}})
	if got := f.do(request{method: "GET", path: "/dashboard", cookie: tok, header: en}).Header.Get("Content-Language"); got != "en" {
		t.Fatalf("following the browser: %q, want en", got)
	}
}

func TestLanguageChoiceBeforeSignIn(t *testing.T) {
	f := newFixture(t, Options{})
	res := f.do(request{method: "GET", path: "/language/cs?next=/signin"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("choose Czech: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var lang *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == LanguageCookie {
			lang = c
		}
	}
	if lang == nil || lang.Value != "cs" {
		t.Fatalf("language cookie %v", lang)
	}
	req := httptest.NewRequest("GET", "/signin", nil)
	req.Header.Set("Accept-Language", "en")
	req.AddCookie(lang)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if got := rec.Header().Get("Content-Language"); got != "cs" {
		t.Fatalf("sign-in page after choosing Czech: %q, want cs", got)
	}
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", ""} {
		res := f.do(request{method: "GET", path: "/language/sv?next=" + url.QueryEscape(next)})
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirects to %q, want /", next, loc)
		}
	}
	if res := f.do(request{method: "GET", path: "/language/de"}); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown language: %d, want 404", res.StatusCode)
	}
}
