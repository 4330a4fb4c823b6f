package cli

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/kandidat/kandidat/internal/app"
)

// ChromiumEnv names the variable that enables the browser tests.
const ChromiumEnv = "KANDIDAT_TEST_CHROMIUM"

// browser starts a headless Chromium for the test, or skips the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv(ChromiumEnv)
	if path == "" {
		t.Skipf("browser test: set %s to a Chromium binary (e.g. /usr/bin/chromium) to run it", ChromiumEnv)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// startDemo runs `serve --demo` on a free port and returns its base URL and
// the one-time password it printed.
func startDemo(t *testing.T) (base, password string) {
	t.Helper()
	return startDemoIn(t, t.TempDir())
}

// startDemoIn is startDemo with the data directory given.
func startDemoIn(t *testing.T, dataDir string) (base, password string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	ready := make(chan string, 1)
	done := make(chan int, 1)
	args := installation(t)
	args[1] = dataDir
	go func() {
		done <- Run(ctx, append([]string{"serve", "--demo", "--addr", "127.0.0.1:0"}, args...), &Env{
			Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Ready: func(u string) { ready <- u },
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case base = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no password printed:\n%s", out.String())
	}
	return base, m[1]
}

func sessionCookies(t *testing.T, ctx context.Context, base string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []*network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "__Host-kandidat_session" {
			out = append(out, c)
		}
	}
	return out
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// waitText waits until the element sel holds want (a form's answer replaces
// the page: the old page's element may still be there, or briefly none).
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	last := ""
	for {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil && s == want {
			return
		}
		if err == nil {
			last = s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("text of %s: %q, want %q", sel, last, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestBrowserDemoSignIn: in real Chromium, a wrong password shows an error
// and sets no cookie; the printed password signs in, the user is made to
// change it, and the dashboard names the company and the user.
func TestBrowserDemoSignIn(t *testing.T) {
	ctx := browser(t)
	base, password := startDemo(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#login"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#signin-error")),
	)
	if err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	if msg := text(t, ctx, "#signin-error"); !strings.Contains(msg, "not correct") {
		t.Fatalf("error message %q", msg)
	}
	if c := sessionCookies(t, ctx, base); len(c) != 0 {
		t.Fatalf("a failed sign-in set a session cookie: %+v", c[0])
	}

	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#login"), "admin"),
		chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#must-change")),
	)
	if err != nil {
		t.Fatalf("sign-in with the printed password: %v", err)
	}
	cookies := sessionCookies(t, ctx, base)
	if len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HTTPOnly || cookies[0].SameSite != network.CookieSameSiteLax {
		t.Fatalf("session cookie in the browser: %+v, want one Secure HttpOnly SameSite=Lax cookie", cookies)
	}
	// The dashboard is out of reach until the password is changed.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS("#must-change"))); err != nil {
		t.Fatalf("dashboard before the change: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#current_password"), password),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "my-own-Secret-2026"),
		chromedp.SendKeys(chromedp.CSS("#confirm_password"), "my-own-Secret-2026"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
	)
	if err != nil {
		t.Fatalf("password change: %v", err)
	}
	if got := text(t, ctx, "#dashboard-title"); !strings.Contains(got, "Demo Administrator") {
		t.Errorf("dashboard title %q, want the user's name", got)
	}
	if got := text(t, ctx, "#dashboard-company"); !strings.Contains(got, "Demo Company") {
		t.Errorf("dashboard company %q, want the company's name", got)
	}
	after := sessionCookies(t, ctx, base)
	if len(after) != 1 || after[0].Value == cookies[0].Value {
		t.Fatal("the session was not rotated by the password change")
	}

	// Sign out, then the old password no longer works and the new one does.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("header form button")),
		chromedp.WaitVisible(chromedp.CSS("#login")),
	)
	if err != nil {
		t.Fatalf("sign-out: %v", err)
	}
	if c := sessionCookies(t, ctx, base); len(c) != 0 {
		t.Fatal("the session cookie survived sign-out")
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#login"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), "my-own-Secret-2026"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
	)
	if err != nil {
		t.Fatalf("sign-in with the new password: %v", err)
	}
}

// TestBrowserLanguage: the pages speak the browser's language.
func TestBrowserLanguage(t *testing.T) {
	path := os.Getenv(ChromiumEnv)
	if path == "" {
		t.Skipf("browser test: set %s to a Chromium binary to run it", ChromiumEnv)
	}
	base, _ := startDemo(t)
	for lang, want := range map[string]string{"sv-SE": "Logga in", "cs-CZ": "Přihl", "sk-SK": "Prihl", "nb-NO": "Logg inn"} {
		opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.Flag("lang", lang),
			chromedp.Flag("accept-lang", lang),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true)}
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelC := chromedp.NewContext(actx)
		ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
		err := chromedp.Do(ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("h1")))
		var h1 string
		if err == nil {
			h1, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		}
		cancelT()
		cancelC()
		cancelA()
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if !strings.Contains(h1, want) {
			t.Errorf("%s: heading %q, want it to contain %q", lang, h1, want)
		}
	}
}

// TestBrowserAuditTrail: a fresh demo's first dashboard raises no alert
// about its own set-up; an administrator invites a second administrator,
// sees the alert that raises on the dashboard, acknowledges it, reads the
// security log with their sign-in in it, filters it, and exports it.
func TestBrowserAuditTrail(t *testing.T) {
	ctx, base, _ := demoAs(t, "admin")
	if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main"))); strings.Contains(html, `id="alerts"`) {
		t.Fatal("the demo's first dashboard raises an alert about its own set-up")
	}
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#users-link")),
		chromedp.WaitVisible(chromedp.CSS("#invite-form")),
		chromedp.SendKeys(chromedp.CSS("#display_name"), "Ida Admin"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ida@demo.example"),
		chromedp.SetValue(chromedp.CSS("#role"), "administrator"),
		chromedp.Click(chromedp.CSS("#invite-form button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#invite-sent")),
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS("#alerts")),
	)
	if err != nil {
		t.Fatalf("invite an administrator: %v", err)
	}
	if got := text(t, ctx, "#alerts"); !strings.Contains(got, "A new administrator was added") {
		t.Fatalf("alerts: %q", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#alerts form button")),
		chromedp.WaitNotPresent(chromedp.CSS("#alerts")),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
	)
	if err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main"))); strings.Contains(html, `id="alerts"`) {
		t.Fatal("the acknowledged alert is still on the dashboard")
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/audit/security"),
		chromedp.WaitVisible(chromedp.CSS("#audit-table")),
	)
	if err != nil {
		t.Fatalf("security log: %v", err)
	}
	table := text(t, ctx, "#audit-table")
	for _, want := range []string{"Signed in", "Password changed", "Alert acknowledged", "Demo Administrator"} {
		if !strings.Contains(table, want) {
			t.Errorf("security log lacks %q", want)
		}
	}
	// Filter by action with the keyboard-usable form.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#action"), "auth.password_changed"),
		chromedp.Click(chromedp.CSS(".filters button")),
	)
	if err != nil {
		t.Fatalf("filter: %v", err)
	}
	waitLocation(t, ctx, "action=auth.password_changed")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#audit-table"))); err != nil {
		t.Fatalf("filtered page: %v", err)
	}
	table = text(t, ctx, "#audit-table")
	if !strings.Contains(table, "Password changed") || strings.Contains(table, "Signed in") {
		t.Fatalf("filtered table:\n%s", table)
	}
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#export-csv"), "href"))
	if err != nil || !strings.Contains(href.Value, "action=auth.password_changed") {
		t.Fatalf("export link %q (%v) does not keep the filter", href.Value, err)
	}
}

// waitLocation waits until the page's address contains want: a click that
// submits a form returns before the next page has loaded.
func waitLocation(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.Contains(loc, want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page never reached an address with %q (last %s)", want, loc)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestBrowserPasswordReset: from the sign-in page, ask for a reset link; it
// arrives (here in the development outbox); follow it, choose a new
// password, sign in with it.
func TestBrowserPasswordReset(t *testing.T) {
	ctx := browser(t)
	dataDir := t.TempDir()
	base, _ := startDemoIn(t, dataDir)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/signin"),
		chromedp.Click(chromedp.CSS("#forgot-link")),
		chromedp.WaitVisible(chromedp.CSS("#identifier")),
		chromedp.SendKeys(chromedp.CSS("#identifier"), "admin@demo.example"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#forgot-sent")),
	)
	if err != nil {
		t.Fatalf("request a link: %v", err)
	}
	link := waitForLink(t, filepath.Join(dataDir, "outbox"), regexp.MustCompile(regexp.QuoteMeta(base)+`/password/reset/[A-Za-z0-9_-]+`))
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#new_password")),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "reset-Secret-2026"),
		chromedp.SendKeys(chromedp.CSS("#confirm_password"), "reset-Secret-2026"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#reset-done")),
		chromedp.SendKeys(chromedp.CSS("#login"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), "reset-Secret-2026"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
	)
	if err != nil {
		t.Fatalf("reset and sign in: %v", err)
	}
	// The link works once.
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if h1 := text(t, ctx, "h1"); !strings.Contains(h1, "Page not found") {
		t.Fatalf("second visit of the link: %q, want the 404 page", h1)
	}
}

// waitForLink waits for an email in the outbox directory holding a link
// that pattern matches, and returns the link.
func waitForLink(t *testing.T, dir string, pattern *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if m := pattern.FindString(string(body)); m != "" {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no email with a link like %s in %s", pattern, dir)
	return ""
}

// TestBrowserTOTP: enrol an authenticator from the QR page, sign out, sign
// in with password and TOTP code, then with a recovery code.
func TestBrowserTOTP(t *testing.T) {
	ctx, base, _ := demoAs(t, "admin")
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/account/mfa"),
		chromedp.Click(chromedp.CSS("#mfa-begin")),
		chromedp.WaitVisible(chromedp.CSS("#totp-qr")),
	)
	if err != nil {
		t.Fatalf("enrolment page: %v", err)
	}
	// The QR code is an image the browser decoded.
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("#totp-qr").naturalWidth`))
	if err != nil || width < 100 {
		t.Fatalf("QR image width %v (%v)", width, err)
	}
	secret := text(t, ctx, "#totp-secret")
	now, _ := totp.GenerateCode(secret, time.Now())
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), now),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
	)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	codes := strings.Fields(text(t, ctx, "#recovery-codes"))
	if len(codes) != 10 {
		t.Fatalf("recovery codes %v", codes)
	}
	signInWith := func(second string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("header form button")),
			chromedp.WaitVisible(chromedp.CSS("#login")),
			chromedp.SendKeys(chromedp.CSS("#login"), "admin"),
			chromedp.SendKeys(chromedp.CSS("#password"), "my-own-Secret-2026"),
			chromedp.Click(chromedp.CSS("button.primary")),
			chromedp.WaitVisible(chromedp.CSS("#code")),
		)
		if err != nil {
			t.Fatalf("password step: %v", err)
		}
		// Nothing but the second step is reachable yet.
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS("#code"))); err != nil {
			t.Fatalf("dashboard before the second step: %v", err)
		}
		err = chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#code"), second),
			chromedp.Click(chromedp.CSS("button.primary")),
			chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
		)
		if err != nil {
			t.Fatalf("second step with %q: %v", second, err)
		}
	}
	// A code of the next time step: the enrolment's code cannot be replayed.
	signInWith(mustCode(t, secret, time.Now().Add(30*time.Second)))
	signInWith(codes[0])
}

func mustCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBrowserInvitation: an administrator invites a colleague; the
// colleague follows the emailed link, chooses a password and lands on the
// dashboard of the company.
func TestBrowserInvitation(t *testing.T) {
	ctx := browser(t)
	dataDir := t.TempDir()
	base, password := startDemoIn(t, dataDir)
	err := chromedp.Do(ctx,
		firstSignIn(base, password),
		chromedp.WaitVisible(chromedp.CSS("#users-link")),
		chromedp.Click(chromedp.CSS("#users-link")),
		chromedp.WaitVisible(chromedp.CSS("#invite-form")),
		chromedp.SendKeys(chromedp.CSS("#display_name"), "Berit Nilsson"),
		chromedp.SendKeys(chromedp.CSS("#email"), "berit@demo.example"),
		chromedp.SetValue(chromedp.CSS("#role"), "recruiter"),
		chromedp.SetValue(chromedp.CSS("#language"), "sv"),
		chromedp.Click(chromedp.CSS("#invite-form button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#invite-sent")),
		chromedp.Click(chromedp.CSS("header form button")),
		chromedp.WaitVisible(chromedp.CSS("#login")),
	)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	link := waitForLink(t, filepath.Join(dataDir, "outbox"), regexp.MustCompile(regexp.QuoteMeta(base)+`/invite/[A-Za-z0-9_-]+`))
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#new_password")),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "Kaffe och bullar 7"),
		chromedp.SendKeys(chromedp.CSS("#confirm_password"), "Kaffe och bullar 7"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
	)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	// Berit chose Swedish at the invitation: the dashboard speaks it.
	if got := text(t, ctx, "#dashboard-title"); !strings.Contains(got, "Berit Nilsson") {
		t.Fatalf("dashboard title %q", got)
	}
	if lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil || lang != "sv" {
		t.Fatalf("page language %q (%v), want sv", lang, err)
	}
}

// TestBrowserPasskey: register a passkey with Chromium's virtual
// authenticator, sign out, and pass the second step with it.
func TestBrowserPasskey(t *testing.T) {
	ctx := browser(t)
	base, password := startDemo(t)
	// WebAuthn needs a host name, not an address: localhost is a secure context.
	base = strings.Replace(base, "127.0.0.1", "localhost", 1)
	if _, err := chromedp.Call(ctx, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{Options: &cdpwebauthn.VirtualAuthenticatorOptions{
		Protocol: cdpwebauthn.AuthenticatorProtocolCtap2, Transport: cdpwebauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		firstSignIn(base, password),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
		chromedp.Navigate(base+"/account/mfa"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-register")),
		chromedp.Click(chromedp.CSS("#passkey-register")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-on")),
	)
	if err != nil {
		t.Fatalf("register a passkey: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("header form button")),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#login"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), "my-own-Secret-2026"),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#passkey-signin")),
		chromedp.Click(chromedp.CSS("#passkey-signin")),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
	)
	if err != nil {
		t.Fatalf("sign in with the passkey: %v", err)
	}
}

// demoPassword is what the browser tests choose at the demo's first sign-in.
const demoPassword = "my-own-Secret-2026"

// firstSignIn signs in as the demo administrator with the printed one-time
// password and chooses demoPassword, as the forced change demands.
func firstSignIn(base, password string) chromedp.Action[chromedp.Void] {
	return firstSignInAs(base, "admin", password)
}

// firstSignInAs signs a demo user in with the one-time password and sets demoPassword.
func firstSignInAs(base, login, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/signin"),
		chromedp.SendKeys(chromedp.CSS("#login"), login),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#must-change")),
		chromedp.SendKeys(chromedp.CSS("#current_password"), password),
		chromedp.SendKeys(chromedp.CSS("#new_password"), demoPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm_password"), demoPassword),
		chromedp.Click(chromedp.CSS("button.primary")),
	)
}

// TestBrowserLineManager: in real Chromium, the demo's line manager signs
// in, finds only the position shared with them, sees its candidates (and
// none of other positions), and comments on one; they are offered no stage
// move, no sharing and no shared pool.
func TestBrowserLineManager(t *testing.T) {
	ctx, _, _ := demoAs(t, "linemanager")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#nav-positions")),
		chromedp.WaitVisible(chromedp.CSS("#positions")),
	)
	if err != nil {
		t.Fatalf("sign in and open positions: %v", err)
	}
	list := text(t, ctx, "#positions")
	if !strings.Contains(list, "Backend Engineer") || strings.Contains(list, "Product Designer") || strings.Contains(list, "Sales Representative") {
		t.Fatalf("the line manager's positions:\n%s", list)
	}
	if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body"))); strings.Contains(html, `id="nav-pool"`) || strings.Contains(html, `id="nav-users"`) {
		t.Fatal("the line manager is offered the pool or the users page")
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#positions a`)),
		chromedp.WaitVisible(chromedp.CSS("#pipeline")),
	)
	if err != nil {
		t.Fatalf("open the position: %v", err)
	}
	pipeline := text(t, ctx, "#pipeline")
	for _, want := range []string{"Alma Svensson", "Cecília Kováčová", "Eva Johansson"} {
		if !strings.Contains(pipeline, want) {
			t.Errorf("pipeline lacks %s", want)
		}
	}
	if strings.Contains(pipeline, "Greta Nilsson") || strings.Contains(pipeline, "Ivana Horváth") {
		t.Fatal("the pipeline shows candidates of a position not shared")
	}
	if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main"))); strings.Contains(html, "share-form") || strings.Contains(html, "publish-position") {
		t.Fatal("the line manager is offered to share or publish")
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[contains(., "Cecília Kováčová")]`)),
		chromedp.WaitVisible(chromedp.CSS("#comment-form")),
		chromedp.SendKeys(chromedp.CSS("#body"), "Strong systems background; let us meet her."),
		chromedp.Click(chromedp.CSS("#comment-form button")),
		chromedp.WaitVisible(chromedp.CSS("article.comment")),
	)
	if err != nil {
		t.Fatalf("comment: %v", err)
	}
	if c := text(t, ctx, "article.comment"); !strings.Contains(c, "Strong systems background") || !strings.Contains(c, "Lukas Novák") {
		t.Fatalf("comment shown as %q", c)
	}
	if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main"))); strings.Contains(html, "stage-form") {
		t.Fatal("the line manager is offered to move the stage")
	}
}

// TestBrowserCareerApplication: in real Chromium, a candidate applies on
// the demo company's career page with a PDF CV and gets a confirmation
// email; the recruiter finds the application with its CV, moves it to the
// interview stage and invites her; she accepts through the emailed link,
// and the position shows the accepted interview.
func TestBrowserCareerApplication(t *testing.T) {
	ctx := browser(t)
	dataDir := t.TempDir()
	base, password := startDemoIn(t, dataDir)
	cv := filepath.Join(t.TempDir(), "Jana-Novakova-CV.pdf")
	if err := os.WriteFile(cv, app.DemoCV("Jana Novakova", "Backend Engineer"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/careers/demo?source=jobboard"),
		chromedp.WaitVisible(chromedp.CSS("#career-positions")),
		chromedp.Click(chromedp.Search(`//a[contains(., "Backend Engineer")]`)),
		chromedp.WaitVisible(chromedp.CSS("#apply-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Jana Nováková"),
		chromedp.SendKeys(chromedp.CSS("#email"), "jana.novakova@example.org"),
		chromedp.SetUploadFiles(chromedp.CSS("#cv"), []string{cv}),
		chromedp.SendKeys(chromedp.CSS("#cover_letter"), "I would love to build this with you."),
		chromedp.SendKeys(chromedp.CSS("#profile_city"), "Brno"), // the demo's position asks for the city
		chromedp.Click(chromedp.CSS("#talent_pool")),
		chromedp.Click(chromedp.CSS("#apply-submit")),
		chromedp.WaitVisible(chromedp.CSS("#thanks-title")),
	)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := text(t, ctx, "#thanks-text"); !strings.Contains(got, "Backend Engineer") {
		t.Fatalf("thank-you page: %q", got)
	}
	waitForLink(t, filepath.Join(dataDir, "outbox"), regexp.MustCompile(`(?s)Backend Engineer.*/consent/[A-Za-z0-9_-]{43}`))
	err = chromedp.Do(ctx,
		firstSignInAs(base, "recruiter", password),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
		openPosition("Backend Engineer"),
		chromedp.Click(chromedp.Search(`//a[contains(., "Jana Nováková")]`)),
		chromedp.WaitVisible(chromedp.CSS("#documents")),
	)
	if err != nil {
		t.Fatalf("recruiter finds the application: %v", err)
	}
	if docs := text(t, ctx, "#documents"); !strings.Contains(docs, "Jana-Novakova-CV.pdf") {
		t.Fatalf("documents: %q", docs)
	}
	if src := text(t, ctx, "#application-source"); src != "jobboard" {
		t.Fatalf("source: %q", src)
	}
	if loc := text(t, ctx, "#profile-location"); loc != "Brno" {
		t.Fatalf("the city from the career form: %q", loc)
	}
	// The stages are the position's own: choose "Interview" by its name.
	const pick = `(() => { const s = document.querySelector("#stage"); s.value = [...s.options].find(o => o.text.trim() === "Interview").value; return true })()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](pick)); err != nil {
		t.Fatalf("choose the stage: %v", err)
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#stage-form button")))
	if err != nil {
		t.Fatalf("move: %v", err)
	}
	for i := 0; ; i++ {
		// The page reloads after the move: read it without failing in between.
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#application-stage") || {}).textContent || ""`))
		if strings.TrimSpace(got) == "Interview" {
			break
		} else if i > 50 {
			t.Fatalf("stage after the move: %q", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#interview-list"))); err != nil {
		t.Fatal(err)
	}
	// The recruiter invites her; she accepts through the emailed link.
	day := time.Now().AddDate(0, 0, 7).Format("2006-01-02")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#invite-details summary")),
		chromedp.WaitVisible(chromedp.CSS("#interview-form")),
		chromedp.SetValue(chromedp.CSS("#date"), day),
		chromedp.SetValue(chromedp.CSS("#time"), "14:30"),
		chromedp.SetValue(chromedp.CSS("#time_zone"), "Europe/Bratislava"),
		chromedp.SendKeys(chromedp.CSS("#location"), "Demo Company, Bratislava office"),
		chromedp.Click(chromedp.CSS("#invite-submit")),
		chromedp.WaitVisible(chromedp.CSS("#invite-sent")),
	)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	// (The demo's own interview invitation is in the outbox too: take Jana's.)
	mail := waitForLink(t, filepath.Join(dataDir, "outbox"), regexp.MustCompile(`(?s)Jana Nováková.*?/interview/[A-Za-z0-9_-]{43}`))
	link := regexp.MustCompile(`/interview/[A-Za-z0-9_-]{43}`).FindString(mail)
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+link),
		chromedp.WaitVisible(chromedp.CSS("#answer-form")),
		chromedp.Click(chromedp.CSS("#answer-accepted")),
		chromedp.Click(chromedp.CSS("#answer-submit")),
		chromedp.WaitVisible(chromedp.CSS("#answer-saved")),
	)
	if err != nil {
		t.Fatalf("the candidate answers: %v", err)
	}
	if when := text(t, ctx, "#interview-when"); !strings.Contains(when, day+" 14:30") {
		t.Fatalf("the candidate sees the time as %q", when)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/positions"),
		chromedp.Click(chromedp.Search(`//a[contains(., "Backend Engineer")]`)),
		chromedp.WaitVisible(chromedp.CSS("#position-interviews")),
	)
	if err != nil {
		t.Fatalf("back to the position: %v", err)
	}
	if got := text(t, ctx, "#position-interviews"); !strings.Contains(got, "Jana Nováková") || !strings.Contains(got, "Accepted") {
		t.Fatalf("the position's interviews: %q", got)
	}
}

// TestBrowserBoardDragAndDrop: in real Chromium, the recruiter drags a
// candidate from New to Offer on the pipeline board; the move is saved
// (it is still there after a reload).
func TestBrowserBoardDragAndDrop(t *testing.T) {
	ctx, base, _ := demoAs(t, "recruiter")
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/positions"),
		chromedp.Click(chromedp.Search(`//a[contains(., "Backend Engineer")]`)),
		chromedp.WaitVisible(chromedp.CSS("#pipeline[data-board]")),
	)
	if err != nil {
		t.Fatalf("open the board: %v", err)
	}
	// The drag as the browser delivers it to the page: dragstart, dragover, drop.
	const drag = `(() => {
		const item = [...document.querySelectorAll('[data-kind="new"] li')].find(li => li.textContent.includes("Alma Svensson"));
		const target = document.querySelector('[data-kind="offer"]');
		const dt = new DataTransfer();
		item.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: dt}));
		target.dispatchEvent(new DragEvent("dragover", {bubbles: true, cancelable: true, dataTransfer: dt}));
		target.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: dt}));
		item.dispatchEvent(new DragEvent("dragend", {bubbles: true, dataTransfer: dt}));
		return true;
	})()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](drag)); err != nil {
		t.Fatalf("drag: %v", err)
	}
	for i := 0; ; i++ {
		if got := text(t, ctx, `[data-kind="offer"]`); strings.Contains(got, "Alma Svensson") {
			break
		} else if i > 50 {
			t.Fatalf("offer column after the drop: %q", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	err = chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#pipeline")))
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `[data-kind="offer"]`); !strings.Contains(got, "Alma Svensson") {
		t.Fatalf("after a reload the offer column is %q", got)
	}
	if got := text(t, ctx, `[data-kind="new"]`); strings.Contains(got, "Alma Svensson") {
		t.Fatal("the candidate is still in New")
	}
}

// TestBrowserSettings: in real Chromium, the demo administrator opens the
// company settings from the menu, chooses the strict password profile and
// requires a second factor of line managers. The administrator, now asked
// for a passkey, is sent to set one up; the line manager is sent to set up
// a second factor at their next sign-in; a recruiter is not.
func TestBrowserSettings(t *testing.T) {
	ctx, base, password := demoAs(t, "admin")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#nav-settings")),
		chromedp.WaitVisible(chromedp.CSS("#settings-form")),
		chromedp.Click(chromedp.CSS("#password_profile-strict")),
		chromedp.Click(chromedp.CSS("#require_mfa_role-line_manager")),
		chromedp.Click(chromedp.CSS("#settings-save")),
	)
	if err != nil {
		t.Fatalf("save the settings: %v", err)
	}
	// The strict profile asks administrators for a passkey: the save takes
	// the administrator straight to setting one up.
	waitLocation(t, ctx, "/account/mfa")
	signOut := chromedp.Steps(chromedp.Click(chromedp.CSS("header form button")), chromedp.WaitVisible(chromedp.CSS("#login")))
	err = chromedp.Do(ctx,
		signOut,
		firstSignInAs(base, "linemanager", password),
	)
	if err != nil {
		t.Fatalf("the line manager's first sign-in: %v", err)
	}
	waitLocation(t, ctx, "/account/mfa")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/positions")); err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, "/account/mfa")
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#mfa-begin")),
		signOut,
		firstSignInAs(base, "recruiter", password),
		chromedp.WaitVisible(chromedp.CSS("#dashboard-title")),
	)
	if err != nil {
		t.Fatalf("the recruiter's first sign-in: %v", err)
	}
}

// TestBrowserSearch: in real Chromium, a recruiter types a surname without
// its accents into the navigation's search box and finds the candidate;
// a phrase from the candidate's PDF CV finds them too, once the CV's text
// is read and indexed in the background; a query that cannot be read is
// explained beside the box.
func TestBrowserSearch(t *testing.T) {
	ctx, base, _ := demoAs(t, "recruiter")
	// search types q into the navigation's box and submits it, until the
	// list shows want (the index follows changes a moment later).
	search := func(q, want string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			err := chromedp.Do(ctx,
				chromedp.Navigate(base+"/dashboard"),
				chromedp.WaitVisible(chromedp.CSS("#nav-q")),
				chromedp.SendKeys(chromedp.CSS("#nav-q"), q+"\r"),
				chromedp.WaitVisible(chromedp.CSS("#candidate-filters")),
			)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			if got := text(t, ctx, "main"); strings.Contains(got, want) {
				if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#q"))); v != q {
					t.Fatalf("the list's box shows %q, want the query %q", v, q)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("search %q never showed %q", q, want)
			}
			time.Sleep(time.Second)
		}
	}
	search("kovacova", "Cecília Kováčová")
	search(`kovacova "eight years in the field"`, "Cecília Kováčová")
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS("#nav-q")),
		chromedp.SendKeys(chromedp.CSS("#nav-q"), `"unclosed`+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#q-error")),
	)
	if err != nil {
		t.Fatalf("a query that cannot be read: %v", err)
	}
}

// TestBrowserSearchAsYouType: in real Chromium, the demo recruiter types
// into the list's search box and the results change without the form
// being sent (the page is not loaded again; the address follows the
// query), a word of a CV shows marked in its row, and the search saved
// under a name is listed as a link.
func TestBrowserSearchAsYouType(t *testing.T) {
	ctx, base, _ := demoAs(t, "recruiter")
	// The CVs' text and the index follow the demo's data a moment later:
	// wait for them.
	deadline := time.Now().Add(90 * time.Second)
	for {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/candidates?q=kovacova+%22eight+years%22"), chromedp.WaitVisible(chromedp.CSS("#candidates"))); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text(t, ctx, "#candidates"), "Kováčová") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the index never found kovacova's CV")
		}
		time.Sleep(time.Second)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/candidates"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), `kovacova "eight years"`)); err != nil {
		t.Fatal(err)
	}
	state := `(() => {
		const rows = document.querySelector("#candidates tbody").textContent;
		const marks = Array.from(document.querySelectorAll("#candidates mark"), (m) => m.textContent);
		return JSON.stringify({same: window.notReloaded === true, url: location.search, found: rows.includes("Kováčová"),
			rows: document.querySelectorAll("#candidates tbody tr").length, marks: marks});
	})()`
	var got string
	for i := 0; ; i++ {
		got, err = chromedp.Run(ctx, chromedp.Evaluate[string](state))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(got, `"found":true`) && strings.Contains(got, `"rows":1,`) && strings.Contains(got, `"eight years"`) {
			break
		}
		if i > 100 {
			t.Fatalf("the results did not follow the typing: %s", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(got, `"same":true`) || !strings.Contains(got, `"url":"?q=kovacova+%22eight+years%22"`) {
		t.Fatalf("the page was loaded again, or the address does not follow the query: %s", got)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#saved-name"), "Kováčová's CV"), // SendKeys types only a keyboard's letters
		chromedp.Click(chromedp.CSS("#save-search button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#saved-notice")),
	)
	if err != nil {
		t.Fatalf("save the search: %v", err)
	}
	if got := text(t, ctx, "#saved-searches"); !strings.Contains(got, "Kováčová's CV") {
		t.Fatalf("saved searches: %q", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/candidates"),
		chromedp.Click(chromedp.Search(`//ul[@id="saved-searches"]//a[contains(., "Kováčová's CV")]`)),
		chromedp.WaitVisible(chromedp.CSS("#search-chips")),
	)
	if err != nil {
		t.Fatalf("run the saved search: %v", err)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#q"))); v != `kovacova "eight years"` {
		t.Fatalf("the saved search runs %q", v)
	}
}

// TestBrowserMatches: in real Chromium, the demo recruiter describes the
// sales position in words of the backend one and requires Go, opens its
// Matches tab, finds candidates ranked with the words that matched, and
// adds the best one not yet in the pipeline to it, where they then are.
func TestBrowserMatches(t *testing.T) {
	ctx, base, _ := demoAs(t, "recruiter")
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/positions"),
		chromedp.Click(chromedp.Search(`//a[contains(., "Sales Representative")]`)),
		chromedp.WaitVisible(chromedp.CSS("#position-form")),
	)
	if err != nil {
		t.Fatalf("open the position: %v", err)
	}
	positionURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#description"), "A backend engineer who sells our services."),
		chromedp.SetValue(chromedp.CSS("#skills"), "Go"),
		chromedp.Submit(chromedp.CSS("#skills")),
	)
	if err != nil {
		t.Fatalf("describe the position: %v", err)
	}
	// The save returns to the same address: look until the page says it.
	for i := 0; ; i++ {
		time.Sleep(200 * time.Millisecond)
		err := chromedp.Do(ctx, chromedp.Navigate(positionURL), chromedp.WaitVisible(chromedp.CSS("#position-skills")))
		if err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "#position-skills"); strings.Contains(got, "Go") {
			break
		} else if i > 25 {
			t.Fatalf("required skills shown: %q", got)
		}
	}
	// The index follows the change a moment later: open the tab until a
	// candidate not yet in the pipeline is ranked for the new words.
	const fresh = `//tr[@data-candidate and not(.//span[contains(@class, "match-applied")])][1]`
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := chromedp.Do(ctx,
			chromedp.Navigate(positionURL),
			chromedp.Click(chromedp.CSS("#matches-tab")),
			chromedp.WaitVisible(chromedp.CSS("#matches")),
		)
		if err != nil {
			t.Fatalf("open the matches tab: %v", err)
		}
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.evaluate('count(`+fresh+`)', document, null, XPathResult.NUMBER_TYPE, null).numberValue`)); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the matches never showed a candidate outside the pipeline: %q", text(t, ctx, "#matches"))
		}
		time.Sleep(time.Second)
	}
	if got := text(t, ctx, "#matches"); !strings.Contains(got, "backend") || !strings.Contains(got, "engineer") {
		t.Fatalf("the matches do not say which words matched: %q", got)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.Search(fresh+`//strong[@class="match-name"]`)))
	if err != nil {
		t.Fatal(err)
	}
	row := `//tr[.//strong[@class="match-name" and text()="` + name + `"]]`
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(row+`//input[@name="candidate"]`)),
		chromedp.Click(chromedp.CSS("#matches-add")),
		chromedp.WaitVisible(chromedp.CSS("#matches-result")),
		chromedp.WaitVisible(chromedp.Search(row+`//span[contains(@class, "match-applied")]`)),
		chromedp.Navigate(positionURL),
		chromedp.WaitVisible(chromedp.CSS("#pipeline")),
	)
	if err != nil {
		t.Fatalf("add %s to the pipeline: %v", name, err)
	}
	if got := text(t, ctx, `#pipeline [data-kind="new"]`); !strings.Contains(got, name) {
		t.Fatalf("the pipeline's first stage after adding %s: %q", name, got)
	}
}
