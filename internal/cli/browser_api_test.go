package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAPIToken: in real Chromium, the demo administrator opens API
// tokens from the menu, makes a service user (an HR manager) and a token
// acting as it with positions.view and positions.all (re-authenticating
// if asked; the administrator gives what it may give a colleague), reads the
// secret shown once, and the test calls /api/v1/positions with it from Go;
// the administrator revokes it on the page, and the next call is 401. The
// reference page /api/docs works without a session and offers its try-it
// forms through its script.
func TestBrowserAPIToken(t *testing.T) {
	ctx, base, _ := demoAs(t, "admin")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#nav-api-tokens")),
		chromedp.WaitVisible(chromedp.CSS("#service-user-form")),
		chromedp.SetValue(chromedp.CSS("#display_name"), "Browser sync"),
		chromedp.SetValue(chromedp.CSS("#service-role"), "hr_manager"),
		chromedp.Click(chromedp.CSS("#service-user-create")),
	)
	if err != nil {
		t.Fatalf("make a service user: %v", err)
	}
	reauthUntil(t, ctx, "service-created")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#token-new"))); err != nil {
		t.Fatalf("new token: %v", err)
	}
	reauthUntil(t, ctx, "token-form")
	form, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("#token-form")))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<option value="([0-9a-f-]{36})"[^>]*>Browser sync `).FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("the form offers no service user to act as:\n%s", form)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#name"), "Browser token"),
		chromedp.SetValue(chromedp.CSS("#user"), m[1]),
		chromedp.Click(chromedp.CSS(`#token-scopes input[value="positions.view"]`)),
		chromedp.Click(chromedp.CSS(`#token-scopes input[value="positions.all"]`)),
		chromedp.Click(chromedp.CSS("#token-create")),
		chromedp.WaitVisible(chromedp.CSS("#token-secret-value")),
	)
	if err != nil {
		t.Fatalf("make the token: %v", err)
	}
	secret := strings.TrimSpace(text(t, ctx, "#token-secret-value"))
	if !strings.HasPrefix(secret, "kdt_") {
		t.Fatalf("secret shown: %q", secret)
	}

	call := func() (int, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", base+"/api/v1/positions", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	status, body := call()
	var page struct {
		Data []struct {
			ID, Title string
		} `json:"data"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Data) == 0 {
		t.Fatalf("GET /api/v1/positions with the new token: %d %s", status, body)
	}

	// The list shows the token (never its secret) with a revoke button.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#nav-api-tokens")), chromedp.WaitVisible(chromedp.CSS("#token-table"))); err != nil {
		t.Fatalf("the list: %v", err)
	}
	list, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(list, secret) || !strings.Contains(list, "Browser token") {
		t.Fatal("the list shows the secret, or not the token")
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//tr[contains(., "Browser token")]//button[starts-with(@id, "revoke-")]`)),
		chromedp.WaitVisible(chromedp.CSS("#token-revoked")),
	)
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if status, body := call(); status != http.StatusUnauthorized {
		t.Fatalf("the revoked token's call: %d %s, want 401", status, body)
	}

	// The reference page (public): its script shows the try-it forms.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/api/docs"),
		chromedp.WaitVisible(chromedp.CSS("#op-listPositions")),
		chromedp.WaitVisible(chromedp.CSS("#try-token-value")),
		chromedp.WaitVisible(chromedp.CSS(`#op-listPositions form.api-try button`)),
	)
	if err != nil {
		t.Fatalf("the reference page: %v", err)
	}
}

// reauthUntil waits for the element with id want, entering the demo
// password on the way when the page asks for it again (the sign-in was
// more than ten minutes ago on a slow machine).
func reauthUntil(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	entered := false
	for {
		// While a page is replaced, the old document's nodes go away under
		// the read: that is a moment to wait through, not a failure.
		html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		switch {
		case err != nil && ctx.Err() != nil:
			t.Fatalf("waiting for #%s: %v", want, err)
		case err != nil:
		case strings.Contains(html, `id="`+want+`"`):
			return
		case !entered && strings.Contains(html, `action="/reauth"`):
			entered = true
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#password"), demoPassword), chromedp.Click(chromedp.CSS("main button.primary"))); err != nil {
				t.Fatalf("re-authenticate: %v", err)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page never showed #%s", want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
