package cli

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newSlowBody returns a request body the test writes piece by piece.
func newSlowBody() (io.Reader, io.WriteCloser) {
	return io.Pipe()
}

// demoAs is the start of most browser tests: a headless Chromium and
// `serve --demo`, with the demo user login signed in by the printed
// one-time password (choosing demoPassword, as the first sign-in demands)
// and on the dashboard. It returns the browser's context, the demo's base
// URL and the one-time password, which the other demo users still need.
func demoAs(t *testing.T, login string) (ctx context.Context, base, password string) {
	t.Helper()
	ctx = browser(t)
	base, password = startDemo(t)
	if err := chromedp.Do(ctx, firstSignInAs(base, login, password), chromedp.WaitVisible(chromedp.CSS("#dashboard-title"))); err != nil {
		t.Fatalf("sign in as %s: %v", login, err)
	}
	return ctx, base, password
}

// openPosition goes through the navigation's positions list to the
// position whose title holds title, and waits for its pipeline.
func openPosition(title string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Click(chromedp.CSS("#nav-positions")),
		chromedp.WaitVisible(chromedp.CSS("#positions")),
		chromedp.Click(chromedp.Search(`//a[contains(., "`+title+`")]`)),
		chromedp.WaitVisible(chromedp.CSS("#pipeline")),
	)
}
