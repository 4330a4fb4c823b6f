package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"net"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	testUser     = "mailer"
	testPassword = "s3cret-Pa55word"
)

// received is one message a test server accepted.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool   // the message came over TLS
	user string // the authenticated user
}

// serverOptions configure a test server.
type serverOptions struct {
	tls          *tls.Config // offered with STARTTLS, or for the whole connection with implicit
	implicit     bool
	user, pass   string // AUTH PLAIN credentials; empty: no AUTH
	insecureAuth bool   // allow AUTH without TLS
	rcptReply    func(to string) error
	dataReply    error
}

// testServer is a go-smtp server on 127.0.0.1 that records what it gets.
type testServer struct {
	port int
	opts serverOptions

	mu    sync.Mutex
	mails int      // MAIL FROM commands
	auths []string // user names of AUTH attempts
	msgs  []received
}

func startServer(t *testing.T, opts serverOptions) *testServer {
	t.Helper()
	ts := &testServer{opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ts: ts, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = opts.insecureAuth
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.port = l.Addr().(*net.TCPAddr).Port
	if opts.implicit {
		l = tls.NewListener(l, opts.tls)
	} else {
		srv.TLSConfig = opts.tls
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ts
}

// config returns a client configuration for the server.
func (ts *testServer) config(mode string) SMTPConfig {
	return SMTPConfig{Host: "127.0.0.1", Port: ts.port, From: "Kandidat <jobs@example.com>", TLS: mode, Timeout: 10 * time.Second}
}

func (ts *testServer) snapshot() (mails int, auths []string, msgs []received) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.mails, append([]string(nil), ts.auths...), append([]received(nil), ts.msgs...)
}

type session struct {
	ts   *testServer
	conn *smtp.Conn
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string {
	if s.ts.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		s.ts.mu.Lock()
		s.ts.auths = append(s.ts.auths, user)
		s.ts.mu.Unlock()
		if identity != "" || user != s.ts.opts.user || pass != s.ts.opts.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.ts.mu.Lock()
	s.ts.mails++
	s.ts.mu.Unlock()
	if s.ts.opts.user != "" && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.cur = received{from: from, tls: isTLS, user: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ts.opts.rcptReply != nil {
		if err := s.ts.opts.rcptReply(to); err != nil {
			return err
		}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.ts.opts.dataReply != nil {
		return s.ts.opts.dataReply
	}
	s.cur.data = b
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, s.cur)
	s.ts.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// testCert returns a self-signed certificate for names (host names or IP
// addresses) and a pool that trusts it.
func testCert(t *testing.T, names ...string) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "notify test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool
}

// sendWithin runs Send and fails the test if it has not returned within a
// minute: a hang, not a slow machine.
func sendWithin(t *testing.T, ctx context.Context, m Mailer, msg Message) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- m.Send(ctx, msg) }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("Send hangs")
		return nil
	}
}

func simpleMessage() Message {
	return Message{To: []string{"ana@example.org"}, Subject: "Hello", Text: "Hi"}
}

func TestSendDeliversPlain(t *testing.T) {
	ts := startServer(t, serverOptions{})
	attachment := bytes.Repeat([]byte("\x00\xff\r\n.\r\n..binary"), 500)
	m := Message{
		To:      []string{"ana@example.org", "jan@příklad.cz"},
		Subject: "Přihláška: Jiří Čapek a Märta",
		Text:    "Dobrý den,\n\n.this line starts with a dot\n.\nS pozdravem",
		HTML:    "<p>Dobrý den,</p>\n<p>.dot</p>",
		Attachments: []Attachment{
			{Name: "pozvánka.ics", ContentType: "text/calendar; method=REQUEST; charset=utf-8", Data: attachment},
		},
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	}
	if err := sendWithin(t, context.Background(), NewSMTP(ts.config(TLSNone)), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	_, auths, msgs := ts.snapshot()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.from != "jobs@example.com" || strings.Join(got.to, ",") != "ana@example.org,jan@xn--pklad-zsa96e.cz" {
		t.Errorf("got envelope %s -> %v, want jobs@example.com -> [ana@example.org jan@xn--pklad-zsa96e.cz]", got.from, got.to)
	}
	if got.tls || len(auths) != 0 {
		t.Errorf("got TLS %v and %d AUTH, want plain without AUTH", got.tls, len(auths))
	}

	checkWire(t, got.data)
	msg, leaves := parse(t, got.data)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From: got %v, %v", from, err)
	}
	if len(leaves) != 3 {
		t.Fatalf("got %d parts, want 3", len(leaves))
	}
	tests := []struct{ name, got, want string }{
		{"Subject", subject, m.Subject},
		{"From", from[0].String(), `"Kandidat" <jobs@example.com>`},
		{"Auto-Submitted", msg.Header.Get("Auto-Submitted"), "auto-generated"},
		{"text path", leaves[0].path, "multipart/mixed > multipart/alternative > text/plain"},
		{"text", string(leaves[0].data), crlf(m.Text)},
		{"HTML path", leaves[1].path, "multipart/mixed > multipart/alternative > text/html"},
		{"HTML", string(leaves[1].data), crlf(m.HTML)},
		{"attachment type", leaves[2].mediaType + " " + leaves[2].params["method"], "text/calendar REQUEST"},
		{"attachment name", leaves[2].filename, "pozvánka.ics"},
		{"attachment bytes", string(leaves[2].data), string(attachment)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %.100q, want %.100q", tt.name, tt.got, tt.want)
		}
	}
}

func TestSendModes(t *testing.T) {
	serverTLS, roots := testCert(t, "127.0.0.1")
	tests := []struct {
		name     string
		mode     string
		opts     serverOptions
		auth     bool
		wantTLS  bool
		wantUser string
	}{
		{"none", TLSNone, serverOptions{}, false, false, ""},
		{"none with AUTH on loopback", TLSNone, serverOptions{user: testUser, pass: testPassword, insecureAuth: true}, true, false, testUser},
		{"starttls", TLSStartTLS, serverOptions{tls: serverTLS}, false, true, ""},
		{"starttls with AUTH", TLSStartTLS, serverOptions{tls: serverTLS, user: testUser, pass: testPassword}, true, true, testUser},
		{"implicit TLS with AUTH", TLSImplicit, serverOptions{tls: serverTLS, implicit: true, user: testUser, pass: testPassword}, true, true, testUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.opts)
			cfg := ts.config(tt.mode)
			cfg.RootCAs = roots
			if tt.auth {
				cfg.Username, cfg.Password = testUser, testPassword
			}
			if err := sendWithin(t, context.Background(), NewSMTP(cfg), simpleMessage()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			_, _, msgs := ts.snapshot()
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			if msgs[0].tls != tt.wantTLS || msgs[0].user != tt.wantUser {
				t.Errorf("got TLS %v and user %q, want %v and %q", msgs[0].tls, msgs[0].user, tt.wantTLS, tt.wantUser)
			}
		})
	}
}

// TestSendRefusesInsecure: when TLS cannot be had, or not with the right
// server, nothing is sent: no credentials, no envelope, no message.
func TestSendRefusesInsecure(t *testing.T) {
	goodTLS, roots := testCert(t, "127.0.0.1")
	otherNameTLS, otherRoots := testCert(t, "mail.example.com")
	oldTLS, oldRoots := testCert(t, "127.0.0.1")
	oldTLS.MinVersion, oldTLS.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	tests := []struct {
		name    string
		mode    string
		opts    serverOptions
		roots   *x509.CertPool
		wantErr string
	}{
		{"starttls not offered", TLSStartTLS, serverOptions{insecureAuth: true}, roots, "STARTTLS"},
		{"certificate for another name", TLSStartTLS, serverOptions{tls: otherNameTLS}, otherRoots, "certificate"},
		{"unknown certificate authority", TLSStartTLS, serverOptions{tls: goodTLS}, nil, "certificate"},
		{"TLS 1.1", TLSStartTLS, serverOptions{tls: oldTLS}, oldRoots, "version"},
		{"implicit TLS, certificate for another name", TLSImplicit, serverOptions{tls: otherNameTLS, implicit: true}, otherRoots, "certificate"},
		{"implicit TLS, TLS 1.1", TLSImplicit, serverOptions{tls: oldTLS, implicit: true}, oldRoots, "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.user, tt.opts.pass = testUser, testPassword
			ts := startServer(t, tt.opts)
			cfg := ts.config(tt.mode)
			cfg.RootCAs = tt.roots
			cfg.Username, cfg.Password = testUser, testPassword
			err := sendWithin(t, context.Background(), NewSMTP(cfg), simpleMessage())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one about %s", err, tt.wantErr)
			}
			if IsPermanent(err) {
				t.Errorf("got IsPermanent true, want false: %v", err)
			}
			mails, auths, msgs := ts.snapshot()
			if mails != 0 || len(auths) != 0 || len(msgs) != 0 {
				t.Errorf("got %d MAIL, %d AUTH, %d messages, want none", mails, len(auths), len(msgs))
			}
		})
	}
}

func TestSendReplies(t *testing.T) {
	rcpt := func(code int, enhanced smtp.EnhancedCode) func(string) error {
		return func(to string) error {
			return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: "<" + to + ">: recipient refused"}
		}
	}
	tests := []struct {
		name          string
		opts          serverOptions
		password      string
		wantCode      string
		wantPermanent bool
	}{
		{"RCPT 550", serverOptions{rcptReply: rcpt(550, smtp.EnhancedCode{5, 1, 1})}, "", "550", true},
		{"RCPT 451", serverOptions{rcptReply: rcpt(451, smtp.EnhancedCode{4, 3, 0})}, "", "451", false},
		{"DATA 554", serverOptions{dataReply: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}}, "", "554", true},
		{"DATA 452", serverOptions{dataReply: &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "insufficient storage"}}, "", "452", false},
		{"AUTH 535", serverOptions{user: testUser, pass: testPassword, insecureAuth: true}, "wrong-Pa55word", "535", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.opts)
			cfg := ts.config(TLSNone)
			if tt.password != "" {
				cfg.Username, cfg.Password = testUser, tt.password
			}
			m := simpleMessage()
			m.Subject = "Secret subject"
			err := sendWithin(t, context.Background(), NewSMTP(cfg), m)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if got := IsPermanent(err); got != tt.wantPermanent {
				t.Errorf("got IsPermanent %v, want %v: %v", got, tt.wantPermanent, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "send mail: ") || !strings.Contains(msg, tt.wantCode) {
				t.Errorf("got error %q, want send mail: ... %s ...", msg, tt.wantCode)
			}
			for _, secret := range []string{"ana@example.org", "Secret subject", tt.password} {
				if secret != "" && strings.Contains(msg, secret) {
					t.Errorf("got error %q, want it without %q", msg, secret)
				}
			}
			if _, _, msgs := ts.snapshot(); len(msgs) != 0 {
				t.Errorf("got %d messages, want none", len(msgs))
			}
		})
	}
}

// startScripted serves each connection with handle on a raw textproto
// connection.
func startScripted(t *testing.T, handle func(c *textproto.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				c := textproto.NewConn(nc)
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// converse greets, answers EHLO, MAIL and RCPT, and calls onData at DATA.
func converse(onData func(c *textproto.Conn)) func(c *textproto.Conn) {
	return func(c *textproto.Conn) {
		c.PrintfLine("220 localhost ESMTP")
		for {
			line, err := c.ReadLine()
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(line, "EHLO"):
				c.PrintfLine("250 localhost")
			case line == "DATA":
				c.PrintfLine("354 go ahead")
				onData(c)
				return
			default:
				c.PrintfLine("250 ok")
			}
		}
	}
}

func TestSendBrokenServers(t *testing.T) {
	drain := func(c *textproto.Conn) { io.Copy(io.Discard, c.R) }
	tests := []struct {
		name        string
		handle      func(c *textproto.Conn)
		wantTimeout bool
	}{
		{"closes at once", func(*textproto.Conn) {}, false},
		{"never greets", drain, true},
		{"closes after EHLO", func(c *textproto.Conn) {
			c.PrintfLine("220 localhost ESMTP")
			c.ReadLine()
		}, false},
		{"garbles its reply", func(c *textproto.Conn) { c.PrintfLine("hello?") }, false},
		{"closes during DATA", converse(func(c *textproto.Conn) { c.ReadLine() }), false},
		{"never answers DATA", converse(drain), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := startScripted(t, tt.handle)
			s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "jobs@example.com", TLS: TLSNone, Timeout: 300 * time.Millisecond})
			err := sendWithin(t, context.Background(), s, simpleMessage())
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if IsPermanent(err) {
				t.Errorf("got IsPermanent true, want false: %v", err)
			}
			if got := errors.Is(err, os.ErrDeadlineExceeded); got != tt.wantTimeout {
				t.Errorf("got timeout %v, want %v: %v", got, tt.wantTimeout, err)
			}
		})
	}
}

func TestSendConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "jobs@example.com", TLS: TLSNone})
	err = sendWithin(t, context.Background(), s, simpleMessage())
	if err == nil || IsPermanent(err) {
		t.Errorf("got %v, want a temporary error", err)
	}
}

func TestSendContextCancelled(t *testing.T) {
	accepted := make(chan struct{})
	port := startScripted(t, func(c *textproto.Conn) {
		close(accepted)
		io.Copy(io.Discard, c.R)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-accepted
		cancel()
	}()
	s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "jobs@example.com", TLS: TLSNone, Timeout: time.Hour})
	err := sendWithin(t, ctx, s, simpleMessage())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if IsPermanent(err) {
		t.Errorf("got IsPermanent true, want false")
	}
}

func TestSendRejectsBeforeConnecting(t *testing.T) {
	connected := false
	var mu sync.Mutex
	port := startScripted(t, func(*textproto.Conn) {
		mu.Lock()
		connected = true
		mu.Unlock()
	})
	tests := []struct {
		name          string
		cfg           SMTPConfig
		m             Message
		wantPermanent bool
	}{
		{"invalid message", SMTPConfig{TLS: TLSNone, From: "jobs@example.com"}, Message{To: []string{"ana@example.org"}, Subject: "a\r\nBcc: eve@example.net", Text: "x"}, true},
		{"invalid sender", SMTPConfig{TLS: TLSNone, From: "jobs"}, simpleMessage(), true},
		{"unknown TLS mode", SMTPConfig{TLS: "ssl", From: "jobs@example.com"}, simpleMessage(), false},
		{"bad HELO name", SMTPConfig{TLS: TLSNone, From: "jobs@example.com", HelloName: "a\r\nRCPT TO:<eve@example.net>"}, simpleMessage(), false},
		{"NUL in password", SMTPConfig{TLS: TLSNone, From: "jobs@example.com", Username: "u", Password: "p\x00"}, simpleMessage(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Host, tt.cfg.Port = "127.0.0.1", port
			err := sendWithin(t, context.Background(), NewSMTP(tt.cfg), tt.m)
			if err == nil || !strings.HasPrefix(err.Error(), "send mail: ") {
				t.Fatalf("got %v, want a send mail: error", err)
			}
			if got := IsPermanent(err); got != tt.wantPermanent {
				t.Errorf("got IsPermanent %v, want %v: %v", got, tt.wantPermanent, err)
			}
			if got := errors.Is(err, ErrInvalidMessage); got != tt.wantPermanent {
				t.Errorf("got ErrInvalidMessage %v, want %v", got, tt.wantPermanent)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if connected {
		t.Error("got a connection, want none")
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"invalid message", invalid("x"), true},
		{"RCPT 550", &replyError{cmd: cmdRcpt, code: 550}, true},
		{"MAIL 553", &replyError{cmd: cmdMail, code: 553}, true},
		{"end of DATA 554", &replyError{cmd: cmdEndData, code: 554}, true},
		{"RCPT 450", &replyError{cmd: cmdRcpt, code: 450}, false},
		{"AUTH 535", &replyError{cmd: cmdAuth, code: 535}, false},
		{"greeting 554", &replyError{cmd: cmdGreeting, code: 554}, false},
		{"network", io.ErrUnexpectedEOF, false},
		{"deadline", context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"5.1.1 <ana@example.org>: Recipient address rejected", "5.1.1 [address] Recipient address rejected"},
		{"line one\nline two\x00", "line one line two"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100) + "..."},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
