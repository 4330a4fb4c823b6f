package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserWhistleblowing: in real Chromium, the whole life of a report.
// A reporter files one on the demo's channel with an attachment and keeps
// the receipt; the case handler signs in (second factor, then the case
// key unlocked with her password), finds the case, reads the report and
// its file, acknowledges it and asks a question; the reporter returns with
// the receipt, reads the question and answers; the handler reads the
// answer and closes the case with an outcome.
func TestBrowserWhistleblowing(t *testing.T) {
	ctx := browser(t)
	base, password := startDemo(t)
	const marker = "Forklift-Zanzibar-7731"
	evidence := filepath.Join(t.TempDir(), "evidence.txt")
	if err := os.WriteFile(evidence, []byte("Delivery notes signed twice: "+marker+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The reporter.
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/report/demo/ethics"),
		chromedp.WaitVisible(chromedp.CSS("#report-form")),
		chromedp.SetValue(chromedp.CSS("#category"), "c1"),
		chromedp.Click(chromedp.CSS(`input[name="q_q2"][value="yes"]`)),
		chromedp.SendKeys(chromedp.CSS("#text"), "The warehouse manager approves the same delivery twice. "+marker),
		chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{evidence}),
		chromedp.Click(chromedp.CSS("#report-submit")),
		chromedp.WaitVisible(chromedp.CSS("#receipt-code")),
	)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	receipt := strings.Join(strings.Fields(text(t, ctx, "#receipt-code")), "")
	if len(receipt) != 24 {
		t.Fatalf("receipt %q", receipt)
	}

	// The case handler: first sign-in, a second factor, the case key.
	err = chromedp.Do(ctx, firstSignInAs(base, "casehandler", password))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	waitLocation(t, ctx, "/account/mfa")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#mfa-begin")),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
	)
	if err != nil {
		t.Fatalf("second factor: %v", err)
	}
	secret := text(t, ctx, "#totp-secret")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), mustCode(t, secret, time.Now())),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
		chromedp.Navigate(base+"/cases/key"),
		chromedp.WaitVisible(chromedp.CSS("#key-unlock")),
		// The demo's key was sealed under the one-time password and
		// re-sealed when she chose her own at the first sign-in.
		chromedp.SendKeys(chromedp.CSS("#unlock-password"), demoPassword),
		chromedp.Click(chromedp.CSS("#key-unlock-submit")),
	)
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	waitLocation(t, ctx, "/cases")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#case-table"))); err != nil {
		t.Fatalf("list: %v", err)
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#case-table a[href^='/cases/']")).map(a => a.getAttribute("href"))`))
	if err != nil || len(links) != 3 {
		t.Fatalf("case links %v (%v); want the demo's two and the new one", links, err)
	}
	var casePath string
	for _, l := range links {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+l), chromedp.WaitVisible(chromedp.CSS("#case-report-text"))); err != nil {
			t.Fatalf("open %s: %v", l, err)
		}
		if strings.Contains(text(t, ctx, "#case-report-text"), marker) {
			casePath = l
			break
		}
	}
	if casePath == "" {
		t.Fatal("no case holds the report")
	}
	if got := text(t, ctx, "#case-report"); !strings.Contains(got, "evidence.txt") {
		t.Fatalf("the report's file is not listed: %q", got)
	}
	const question = "Thank you. Which deliveries, and since when?"
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#acknowledge-submit"))); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	waitContains(t, ctx, "#case-status", "Acknowledged")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#reply-text"), question),
		chromedp.Click(chromedp.CSS("#reply-submit")),
	)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	waitContains(t, ctx, "#case-thread", question)

	// The reporter returns with the receipt.
	const answer = "Since September, every Friday delivery."
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/report/demo/follow-up"),
		chromedp.WaitVisible(chromedp.CSS("#follow-up-form")),
		chromedp.SendKeys(chromedp.CSS("#receipt"), receipt),
		chromedp.Click(chromedp.CSS("#follow-up-submit")),
		chromedp.WaitVisible(chromedp.CSS("#messages")),
	)
	if err != nil {
		t.Fatalf("follow-up: %v", err)
	}
	waitContains(t, ctx, "#messages", question)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#text"), answer),
		chromedp.Click(chromedp.CSS("#reply-submit")),
	)
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	waitContains(t, ctx, "#messages", answer)

	// The handler reads the answer and closes the case.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+casePath),
		chromedp.WaitVisible(chromedp.CSS("#case-thread")),
	)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	waitContains(t, ctx, "#case-thread", answer)
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#status-select"), "closed"),
		chromedp.SetValue(chromedp.CSS("#outcome"), "substantiated"),
		chromedp.Click(chromedp.CSS("#status-submit")),
	)
	if err != nil {
		t.Fatalf("close: %v", err)
	}
	waitContains(t, ctx, "#case-status", "Closed")
}

// waitContains waits until the element sel's text holds want (the page may
// be replaced meanwhile by a form's answer).
func waitContains(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	last := ""
	for {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil && strings.Contains(s, want) {
			return
		}
		if err == nil {
			last = s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("text of %s: %q, want it to hold %q", sel, last, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
