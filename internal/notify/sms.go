package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// SMSSender sends a text message to a phone number in E.164 form.
type SMSSender interface {
	SendSMS(ctx context.Context, to, text string) error
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// NormalizePhone returns a phone number in E.164 form (+46701234567),
// accepting spaces, dashes and parentheses, or false.
func NormalizePhone(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	return s, e164.MatchString(s)
}

// SMSGateway sends through a generic HTTP gateway: a POST of
// {"to": "+46…", "text": "…"} as JSON with a bearer token. A 2xx answer is
// success; 4xx is permanent (the number or message is refused); anything
// else is temporary.
type SMSGateway struct {
	URL    string
	Token  string
	Client *http.Client // nil: a client with a 15 s timeout
}

type smsError struct {
	status int
}

func (e *smsError) Error() string   { return fmt.Sprintf("sms gateway answered %d", e.status) }
func (e *smsError) Permanent() bool { return e.status >= 400 && e.status < 500 }

// SendSMS implements SMSSender.
func (g *SMSGateway) SendSMS(ctx context.Context, to, text string) error {
	if !e164.MatchString(to) || text == "" || !utf8.ValidString(text) || len(text) > 1600 {
		return fmt.Errorf("%w: bad phone number or text", ErrInvalidMessage)
	}
	body, _ := json.Marshal(map[string]string{"to": to, "text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("send sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	client := g.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("send sms: %w", err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("send sms: %w", &smsError{status: res.StatusCode})
	}
	return nil
}

// SMSOutbox writes each text message to a file in a directory, for
// development; it never sends.
type SMSOutbox struct{ dir string }

// NewSMSOutbox returns an SMSOutbox writing to dir.
func NewSMSOutbox(dir string) *SMSOutbox { return &SMSOutbox{dir: dir} }

// SendSMS implements SMSSender.
func (o *SMSOutbox) SendSMS(ctx context.Context, to, text string) error {
	if !e164.MatchString(to) || !utf8.ValidString(text) {
		return fmt.Errorf("%w: bad phone number or text", ErrInvalidMessage)
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return err
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := time.Now().UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b) + ".sms.txt"
	return os.WriteFile(filepath.Join(o.dir, name), []byte("To: "+to+"\n\n"+text+"\n"), 0o600)
}

// permanenter is an error that knows whether retrying can help.
type permanenter interface{ Permanent() bool }

func isPermanentOther(err error) bool {
	var p permanenter
	return errors.As(err, &p) && p.Permanent()
}
