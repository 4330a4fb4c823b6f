package app

import (
	"bytes"
	"io"
	stdlog "log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/kandidat/kandidat/internal/config"
)

type smtpSession struct{ got chan<- []byte }

func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }
func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err == nil {
		s.got <- b
	}
	return err
}

// TestAlertEmailOverSMTP: a burst of failed sign-ins raises an alert that
// reaches the company's administrator through a real SMTP exchange.
func TestAlertEmailOverSMTP(t *testing.T) {
	cfg, got := demoWithSMTP(t)
	cfg.AlertFailedSignIns = 3
	base := serveApp(t, cfg, ServeOptions{AlertInterval: 100 * time.Millisecond})
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(url.Values{"login": {"admin"}, "password": {"wrong-password-1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case raw := <-got:
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			body, _ := io.ReadAll(msg.Body)
			if strings.HasSuffix(msg.Header.Get("To"), "@example.org") {
				continue // the demo candidates' confirmations
			}
			if msg.Header.Get("To") != "admin@demo.example" || !strings.Contains(subject, "Demo Company") {
				t.Fatalf("email to %q about %q", msg.Header.Get("To"), subject)
			}
			if strings.Contains(string(body), "failed sign-ins") {
				if !strings.Contains(string(body), base+"/audit/security") {
					t.Fatalf("the email does not link the security log:\n%s", body)
				}
				return // the burst alert arrived (the new-administrator alert may come first)
			}
		case <-deadline:
			t.Fatal("no alert email within 30 s")
		}
	}
}

func quietLogger(w io.Writer) *stdlog.Logger { return stdlog.New(w, "", 0) }

// demoWithSMTP starts an SMTP server on loopback and returns a demo
// configuration sending to it, and the channel of the messages it receives.
func demoWithSMTP(t *testing.T) (*config.Config, <-chan []byte) {
	t.Helper()
	got := make(chan []byte, 16)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{got: got}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = quietLogger(io.Discard)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	cfg := testConfig(t)
	cfg.Addr = "127.0.0.1:0"
	cfg.Demo = true
	cfg.SMTPHost, cfg.SMTPPort, cfg.SMTPTLS, cfg.SMTPFrom = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, "none", "kandidat@example.com"
	return cfg, got
}

// TestLockoutEmailAndUnlock: five wrong passwords lock the demo
// administrator; the unlock email arrives over SMTP; its link, opened and
// answered with the password, signs the browser in and trusts it.
func TestLockoutEmailAndUnlock(t *testing.T) {
	cfg, got := demoWithSMTP(t)
	var out syncWriter
	base := serveApp(t, cfg, ServeOptions{Out: &out, AlertInterval: 100 * time.Millisecond})
	password := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out.String())[1]
	signIn := func(pw string) int {
		req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(url.Values{"login": {"admin"}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for i := 0; i < 5; i++ {
		if code := signIn("wrong-password-" + strconv.Itoa(i)); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", code)
		}
	}
	if code := signIn(password); code != http.StatusUnauthorized {
		t.Fatalf("locked account with the right password: %d, want 401", code)
	}
	var link string
	deadline := time.After(30 * time.Second)
	for link == "" {
		select {
		case raw := <-got:
			msg, _ := mail.ReadMessage(bytes.NewReader(raw))
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if m := regexp.MustCompile(regexp.QuoteMeta(base) + `/unlock/[A-Za-z0-9_-]+`).FindString(string(body)); m != "" {
				link = m
			}
		case <-deadline:
			t.Fatal("no unlock email within 30 s")
		}
	}
	res, err := http.Get(link)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("unlock page: %v %v", res, err)
	}
	res.Body.Close()
	// The link asks for the password, signs this browser in and gives it a
	// device cookie; the lock still holds other browsers.
	req, _ := http.NewRequest("POST", link, strings.NewReader(url.Values{"password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noRedirect.Do(req)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %v %v", res, err)
	}
	res.Body.Close()
	var device *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "__Host-kandidat_device" {
			device = c
		}
	}
	if device == nil {
		t.Fatal("the unlock link gave no device cookie")
	}
	if code := signIn(password); code != http.StatusUnauthorized {
		t.Fatalf("another browser after the link, during the lock: %d, want 401", code)
	}
	req, _ = http.NewRequest("POST", base+"/signin", strings.NewReader(url.Values{"login": {"admin"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: device.Name, Value: device.Value})
	if res, err = noRedirect.Do(req); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the link's browser, the right password: %v %v, want 303", res, err)
	}
	res.Body.Close()
}

// syncWriter collects what Serve prints, safely across goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
