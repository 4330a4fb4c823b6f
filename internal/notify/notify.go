// Package notify sends email: it composes RFC 5322/MIME messages and hands
// them to an SMTP server (SMTP) or, in development, writes them to a
// directory as .eml files (Outbox).
//
// The package imports no domain package. It never logs, and its errors never
// carry message content, recipient addresses or passwords: a server reply is
// quoted with every word that holds an "@" replaced by "[address]".
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// Message is one email.
type Message struct {
	// To lists the recipients, bare addresses such as "ana@example.com"
	// (no display names). At least one is required.
	To []string
	// Subject is the subject line; it must not contain CR or LF.
	Subject string
	// Text is the plain-text body; required.
	Text string
	// HTML is an optional HTML alternative of Text.
	HTML string
	// Attachments are added after the body, e.g. an .ics invitation.
	Attachments []Attachment
	// Headers are extra header fields, e.g. "Auto-Submitted": "auto-generated".
	// Names the package writes itself (Date, From, To, Subject, Content-Type
	// ...) and Cc/Bcc are refused. Non-ASCII values are encoded as RFC 2047
	// encoded-words, which suits unstructured fields only; Reply-To is parsed
	// as an address list.
	Headers map[string]string
}

// Attachment is one file attached to a Message.
type Attachment struct {
	// Name is the file name shown to the recipient, without a directory.
	Name string
	// ContentType is the media type with optional parameters, e.g.
	// "text/calendar; method=REQUEST; charset=utf-8"; empty means
	// application/octet-stream.
	ContentType string
	// Data is the content.
	Data []byte
}

// Mailer sends a message.
type Mailer interface {
	// Send delivers m or returns why not; see IsPermanent.
	Send(ctx context.Context, m Message) error
}

// ErrInvalidMessage is wrapped by every error about a message that cannot be
// sent as given: no recipient, a bad address, an attempted header injection
// (CR or LF in a subject, header or address), an empty text, and the like.
var ErrInvalidMessage = errors.New("invalid message")

// IsPermanent reports whether err says that sending the same message again
// will fail again: the message is invalid, or the server refused it with a 5xx
// reply to MAIL FROM, RCPT TO or DATA.
//
// Everything else is temporary: 4xx replies, network errors and timeouts,
// cancellation, and refusals of the session itself (a 5xx greeting, EHLO,
// STARTTLS or AUTH reply, a missing STARTTLS or certificate problems), since
// those concern the server or its configuration rather than the message, and
// the message can go out once they are fixed.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInvalidMessage) {
		return true
	}
	var re *replyError
	if errors.As(err, &re) {
		return re.permanent()
	}
	return isPermanentOther(err)
}

// replyError is a negative reply of the SMTP server to one command.
type replyError struct {
	cmd  string // "RCPT TO", "DATA" ...
	code int
	text string // the server's text, addresses redacted
}

func (e *replyError) Error() string {
	return fmt.Sprintf("%s: server replied %d %s", e.cmd, e.code, e.text)
}

// permanent reports a 5xx reply within the mail transaction.
func (e *replyError) permanent() bool {
	if e.code < 500 || e.code > 599 {
		return false
	}
	switch e.cmd {
	case cmdMail, cmdRcpt, cmdData, cmdEndData:
		return true
	}
	return false
}

// newReplyError converts a *textproto.Error; it reports false for any other
// error.
func newReplyError(cmd string, err error) (*replyError, bool) {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return nil, false
	}
	return &replyError{cmd: cmd, code: te.Code, text: redact(te.Msg)}, true
}

// redact flattens a server reply to one line, replaces every word holding an
// "@" (servers often echo the address they refuse) and bounds its length.
func redact(msg string) string {
	fields := strings.Fields(msg)
	for i, f := range fields {
		if strings.Contains(f, "@") {
			fields[i] = "[address]"
		}
	}
	s := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.Join(fields, " "))
	const max = 200
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}
