package cli

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/chromedp/chromedp"
)

// TestBrowserBackupPage: the operator opens the backup page on the admin
// address in Chromium and sees the scheduled backup the server wrote on
// its own, its schedule and that it is on time.
func TestBrowserBackupPage(t *testing.T) {
	ctx := browser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminAddr := ln.Addr().String()
	ln.Close()
	id, _ := age.GenerateX25519Identity()
	target := filepath.Join(t.TempDir(), "backups")
	startServe(t, append([]string{"--demo", "--admin-addr", adminAddr,
		"--backup-targets", "nightly=" + target + "?every=24h&keep=14&max-age=30d",
		"--backup-recipients", id.Recipient().String()}, installation(t)...))
	admin := "http://" + adminAddr
	if err := chromedp.Do(ctx, chromedp.Navigate(admin+"/backups")); err != nil {
		t.Fatal(err)
	}
	// The first scheduled backup arrives within seconds; the page shows it on a reload.
	for i := 0; ; i++ {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#target-nightly")))
		if err == nil && containsAll(s, "nightly", "every 24h0m0s", "keeps 14", "on time", "ago") {
			break
		}
		if i == 60 {
			t.Fatalf("the backup page never showed the scheduled backup; last: %q (%v)", s, err)
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(500e6), chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || title != "Backups" {
		t.Fatalf("title %q %v", title, err)
	}
	n, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#target-nightly td:nth-of-type(3)")))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := strconv.Atoi(n); c != 1 {
		t.Fatalf("backups listed: %q, want 1", n)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
