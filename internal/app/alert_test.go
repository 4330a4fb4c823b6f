package app

import (
	"bytes"
	"context"
	"io"
	stdlog "log"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
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
	got := make(chan []byte, 16)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{got: got}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = quietLogger(io.Discard)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	cfg := testConfig(t)
	cfg.Addr = "127.0.0.1:0"
	cfg.Demo = true
	cfg.SMTPHost, cfg.SMTPPort, cfg.SMTPTLS, cfg.SMTPFrom = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, "none", "kandidat@example.com"
	cfg.AlertFailedSignIns = 3
	if err := cfg.Validate(config.Server); err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), OpenOptions{Migrate: true, CreateMasterKey: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- a.Serve(ctx, ServeOptions{Ready: func(u string) { ready <- u }, AlertInterval: 100 * time.Millisecond})
	}()
	defer func() { cancel(); <-done; a.Close() }()
	base := <-ready
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
