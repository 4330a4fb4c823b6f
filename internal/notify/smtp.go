package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TLS modes of SMTPConfig.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS, for a server on this machine (config allows no other)
)

// SMTP commands, as they appear in errors.
const (
	cmdGreeting = "greeting"
	cmdEHLO     = "EHLO"
	cmdSTARTTLS = "STARTTLS"
	cmdAuth     = "AUTH"
	cmdMail     = "MAIL FROM"
	cmdRcpt     = "RCPT TO"
	cmdData     = "DATA"
	cmdEndData  = "end of DATA"
)

// SMTPConfig configures an SMTP mailer.
type SMTPConfig struct {
	// Host is the server's name or IP address; its certificate must carry it.
	Host string
	// Port defaults to 465 for TLS "tls", 587 for "starttls" and 25 for "none".
	Port int
	// Username and Password are sent with AUTH PLAIN when Username is set,
	// only over TLS or, with TLS "none", to a server on a loopback address.
	Username, Password string
	// From is the sender address, optionally with a display name
	// ("Jobs <jobs@example.com>"); it is also the envelope sender.
	From string
	// TLS is "starttls" (the default), "tls" or "none"; see the TLS*
	// constants. TLS is at least version 1.2 and the certificate must match
	// Host. With "none", Send still refuses to send credentials to a server
	// that is not on a loopback address.
	TLS string
	// HelloName is the name sent with EHLO; default "localhost".
	HelloName string
	// Timeout bounds connecting and every wait for the server to read or
	// answer; default 30 seconds. The context's deadline, if any, bounds the
	// whole exchange.
	Timeout time.Duration
	// RootCAs verifies the server's certificate; nil means the system roots.
	RootCAs *x509.CertPool
}

// SMTP is a Mailer that delivers each message over a new connection to one
// SMTP server (a relay or submission server). It is safe for concurrent use.
type SMTP struct {
	cfg SMTPConfig
}

// NewSMTP returns an SMTP mailer for c, with defaults filled in. The
// configuration is checked on every Send.
func NewSMTP(c SMTPConfig) *SMTP {
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSImplicit:
			c.Port = 465
		case TLSNone:
			c.Port = 25
		default:
			c.Port = 587
		}
	}
	if c.HelloName == "" {
		c.HelloName = "localhost"
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return &SMTP{cfg: c}
}

// errNoSTARTTLS is returned in "starttls" mode when the server does not offer
// STARTTLS; nothing is sent in plain text then.
var errNoSTARTTLS = errors.New("STARTTLS: the server does not offer it; refusing to continue without TLS")

// Send composes m and delivers it: connect, TLS as configured, EHLO, AUTH
// PLAIN, MAIL FROM, RCPT TO for each recipient, DATA and QUIT. Errors start
// with "send mail:"; IsPermanent tells a refused message from a failure worth
// retrying.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := s.send(ctx, m); err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	return nil
}

func (s *SMTP) send(ctx context.Context, m Message) error {
	if err := s.check(); err != nil {
		return err
	}
	raw, env, err := compose(s.cfg.From, m, time.Now())
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d := net.Dialer{Timeout: s.cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	// Cancelling the context closes the connection, which ends any wait.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	limit, _ := ctx.Deadline()
	c := &client{raw: nc, conn: &idleConn{Conn: nc, timeout: s.cfg.Timeout, limit: limit}}
	if err := s.exchange(ctx, c, raw, env); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// check validates the configuration; its errors name no secret.
func (s *SMTP) check() error {
	c := s.cfg
	if c.Host == "" || strings.ContainsFunc(c.Host, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return errors.New("config: SMTP host is empty or not a host name")
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("config: SMTP port %d is out of range", c.Port)
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return fmt.Errorf("config: SMTP TLS mode %q is not starttls, tls or none", c.TLS)
	}
	if strings.ContainsFunc(c.HelloName, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return errors.New("config: HELO name is not a host name")
	}
	if strings.ContainsRune(c.Username, 0) || strings.ContainsRune(c.Password, 0) {
		return errors.New("config: SMTP username or password contains a NUL byte")
	}
	return nil
}

// exchange runs the SMTP dialogue on a connected client.
func (s *SMTP) exchange(ctx context.Context, c *client, raw []byte, env envelope) error {
	cfg := &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: s.cfg.RootCAs}
	secure := false
	if s.cfg.TLS == TLSImplicit {
		if err := c.startTLS(ctx, cfg); err != nil {
			return err
		}
		secure = true
	} else {
		c.text = textproto.NewConn(c.conn)
	}
	if _, _, err := c.text.ReadResponse(220); err != nil {
		return c.fail(cmdGreeting, err)
	}
	if err := c.ehlo(s.cfg.HelloName); err != nil {
		return err
	}
	if s.cfg.TLS == TLSStartTLS {
		if _, ok := c.ext["STARTTLS"]; !ok {
			c.quit()
			return errNoSTARTTLS
		}
		if _, _, err := c.cmd(220, "STARTTLS"); err != nil {
			return c.fail(cmdSTARTTLS, err)
		}
		if c.text.R.Buffered() > 0 {
			return errors.New("STARTTLS: the server sent data before the TLS handshake")
		}
		if err := c.startTLS(ctx, cfg); err != nil {
			return fmt.Errorf("%s: %w", cmdSTARTTLS, err)
		}
		secure = true
		if err := c.ehlo(s.cfg.HelloName); err != nil {
			return err
		}
	}
	if s.cfg.Username != "" {
		if !secure && !isLoopback(c.raw.RemoteAddr()) {
			c.quit()
			return errors.New("AUTH: refusing to send credentials without TLS to a server that is not on this machine")
		}
		if !slices.Contains(strings.Fields(strings.ToUpper(c.ext["AUTH"])), "PLAIN") {
			c.quit()
			return errors.New("AUTH: the server does not offer AUTH PLAIN")
		}
		resp := base64.StdEncoding.EncodeToString([]byte("\x00" + s.cfg.Username + "\x00" + s.cfg.Password))
		if _, _, err := c.cmd(235, "AUTH PLAIN %s", resp); err != nil {
			return c.fail(cmdAuth, err)
		}
	}
	size := ""
	if _, ok := c.ext["SIZE"]; ok {
		size = " SIZE=" + strconv.Itoa(len(raw))
	}
	if _, _, err := c.cmd(250, "MAIL FROM:<%s>%s", env.from, size); err != nil {
		return c.fail(cmdMail, err)
	}
	for _, to := range env.to {
		if _, _, err := c.cmd(25, "RCPT TO:<%s>", to); err != nil {
			return c.fail(cmdRcpt, err)
		}
	}
	if _, _, err := c.cmd(354, "DATA"); err != nil {
		return c.fail(cmdData, err)
	}
	w := c.text.DotWriter()
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("%s: %w", cmdData, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", cmdData, err)
	}
	if _, _, err := c.text.ReadResponse(250); err != nil {
		return c.fail(cmdEndData, err)
	}
	// The server has taken the message; a failing QUIT changes nothing.
	c.quit()
	return nil
}

// client is one SMTP connection.
type client struct {
	raw  net.Conn // the TCP connection
	conn net.Conn // raw with idle deadlines
	text *textproto.Conn
	ext  map[string]string // EHLO keywords (upper case) and their parameters
}

// cmd sends one command and reads its reply; expect as in
// textproto.Reader.ReadResponse.
func (c *client) cmd(expect int, format string, args ...any) (int, string, error) {
	id, err := c.text.Cmd(format, args...)
	if err != nil {
		return 0, "", err
	}
	c.text.StartResponse(id)
	defer c.text.EndResponse(id)
	return c.text.ReadResponse(expect)
}

func (c *client) ehlo(name string) error {
	_, msg, err := c.cmd(250, "EHLO %s", name)
	if err != nil {
		return c.fail(cmdEHLO, err)
	}
	c.ext = map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, line := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		c.ext[strings.ToUpper(k)] = v
	}
	return nil
}

// startTLS runs the TLS handshake over the connection and continues the
// dialogue over TLS.
func (c *client) startTLS(ctx context.Context, cfg *tls.Config) error {
	tc := tls.Client(c.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.text = textproto.NewConn(tc)
	return nil
}

// fail turns a negative reply into a *replyError, ending the session
// politely, and wraps any other error with the command.
func (c *client) fail(cmd string, err error) error {
	if re, ok := newReplyError(cmd, err); ok {
		c.quit()
		return re
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

// quit sends QUIT and ignores the outcome.
func (c *client) quit() {
	c.cmd(221, "QUIT")
}

// isLoopback reports a loopback peer address.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// idleConn moves the deadline forward before every read and write, so that
// a silent server times out after the idle timeout, however long the whole
// exchange takes; limit (the context's deadline) caps it.
type idleConn struct {
	net.Conn
	timeout time.Duration
	limit   time.Time
}

func (c *idleConn) extend() {
	d := time.Now().Add(c.timeout)
	if !c.limit.IsZero() && c.limit.Before(d) {
		d = c.limit
	}
	// An error here means the connection is closed; the Read or Write that
	// follows reports it.
	c.Conn.SetDeadline(d)
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.extend()
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.extend()
	return c.Conn.Write(p)
}
