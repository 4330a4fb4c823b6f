package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

const (
	maxLine    = 998 // longest line RFC 5322 allows, CRLF excluded
	foldAt     = 78  // header lines are folded to this length where possible
	maxWordLen = 75  // longest RFC 2047 encoded-word
	maxName    = 255 // longest attachment name, in bytes
	maxAddress = 254 // longest address (RFC 5321 path minus the brackets)
)

// reserved lists the header fields (lower case) that Compose writes itself,
// and Cc/Bcc, which would name people the envelope does not reach.
var reserved = map[string]bool{
	"date": true, "message-id": true, "from": true, "to": true, "cc": true, "bcc": true,
	"subject": true, "mime-version": true, "content-type": true,
	"content-transfer-encoding": true, "content-disposition": true,
}

// envelope is the SMTP envelope of a composed message.
type envelope struct {
	from string
	to   []string
}

// Compose returns m as an RFC 5322 message with MIME bodies, from the sender
// from (an address, optionally with a display name: "Jobs <jobs@example.com>")
// and dated now. Both SMTP and Outbox send these bytes.
//
// Lines end in CRLF and are at most 998 octets; header fields are folded at
// 78 where possible. A non-ASCII subject is encoded as RFC 2047 Q
// encoded-words (so is an ASCII one that contains "=?" or cannot be folded).
// The text, and the HTML as its multipart/alternative, are UTF-8 in
// quoted-printable; attachments follow in multipart/mixed, in base64, their
// names encoded per RFC 2231. Internationalised domain names are converted to
// their ASCII form; addresses with a non-ASCII local part are refused, as is
// anything that would let input add header fields. Every refusal wraps
// ErrInvalidMessage.
func Compose(from string, m Message, now time.Time) ([]byte, error) {
	raw, _, err := compose(from, m, now)
	return raw, err
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...))
}

func compose(from string, m Message, now time.Time) ([]byte, envelope, error) {
	var env envelope
	fromField, fromAddr, err := parseFrom(from)
	if err != nil {
		return nil, env, err
	}
	env.from = fromAddr
	if len(m.To) == 0 {
		return nil, env, invalid("no recipient")
	}
	for i, s := range m.To {
		a, err := parseAddress(s)
		if err != nil {
			return nil, env, invalid("recipient %d: %v", i+1, err)
		}
		env.to = append(env.to, a)
	}
	if err := checkText("subject", m.Subject, false); err != nil {
		return nil, env, err
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, env, invalid("empty text")
	}
	if err := checkText("text", m.Text, true); err != nil {
		return nil, env, err
	}
	if err := checkText("HTML", m.HTML, true); err != nil {
		return nil, env, err
	}
	extra, err := extraFields(m.Headers)
	if err != nil {
		return nil, env, err
	}
	atts, err := attachmentHeaders(m.Attachments)
	if err != nil {
		return nil, env, err
	}

	var b bytes.Buffer
	writeField(&b, "Date", now.Format(time.RFC1123Z))
	writeField(&b, "Message-ID", messageID(fromAddr))
	writeField(&b, "From", fromField)
	writeField(&b, "To", strings.Join(env.to, ", "))
	writeField(&b, "Subject", encodeText("Subject", m.Subject))
	writeField(&b, "MIME-Version", "1.0")
	for _, f := range extra {
		writeField(&b, f.name, f.value)
	}
	writeBody(&b, m, atts)
	raw := b.Bytes()
	if err := checkLines(raw); err != nil {
		return nil, env, err
	}
	return raw, env, nil
}

// checkText refuses invalid UTF-8 and, in a header (body false), line breaks.
func checkText(what, s string, body bool) error {
	if !body && strings.ContainsAny(s, "\r\n") {
		return invalid("%s contains a line break", what)
	}
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", what)
	}
	return nil
}

// parseFrom parses the sender and returns the From field and the envelope
// address.
func parseFrom(from string) (field, addr string, err error) {
	if strings.ContainsAny(from, "\r\n") {
		return "", "", invalid("sender contains a line break")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "", "", invalid("sender is not a valid address")
	}
	addr, err = asciiAddress(a.Address)
	if err != nil {
		return "", "", invalid("sender: %v", err)
	}
	return formatAddress(a.Name, addr, len("From: ")), addr, nil
}

// parseAddress checks a bare address and returns its ASCII form.
func parseAddress(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("address contains a line break")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", fmt.Errorf("not a bare email address")
	}
	return asciiAddress(a.Address)
}

// asciiAddress converts an internationalised domain to its A-label form and
// refuses a non-ASCII local part, which would need SMTPUTF8.
func asciiAddress(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", fmt.Errorf("not an email address")
	}
	local, domain := addr[:at], addr[at+1:]
	if !isASCII(local) {
		return "", fmt.Errorf("non-ASCII local part is not supported")
	}
	if !isDotAtom(local) {
		return "", fmt.Errorf("quoted local part is not supported")
	}
	if !isASCII(domain) {
		d, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", fmt.Errorf("domain is not a valid internationalised domain name")
		}
		domain = d
	}
	out := local + "@" + domain
	if len(out) > maxAddress || local == "" || domain == "" {
		return "", fmt.Errorf("address length out of range")
	}
	return out, nil
}

// formatAddress formats an address with an optional display name for a
// header field; used is the length of the line before it.
func formatAddress(name, addr string, used int) string {
	switch {
	case name == "":
		return addr
	case needsEncoding(name):
		return qEncode(name, used) + " <" + addr + ">"
	default:
		return (&mail.Address{Name: name, Address: addr}).String()
	}
}

type field struct{ name, value string }

// extraFields validates Message.Headers and returns them encoded, sorted by
// name.
func extraFields(h map[string]string) ([]field, error) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	seen := map[string]bool{}
	out := make([]field, 0, len(names))
	for _, name := range names {
		value := h[name]
		if !validFieldName(name) {
			return nil, invalid("a header name is not valid")
		}
		lower := strings.ToLower(name)
		if reserved[lower] {
			return nil, invalid("header %s is written by the mailer", name)
		}
		if seen[lower] {
			return nil, invalid("header %s is given twice", name)
		}
		seen[lower] = true
		if strings.ContainsAny(value, "\r\n") {
			return nil, invalid("header %s contains a line break", name)
		}
		if !utf8.ValidString(value) || hasControl(value) {
			return nil, invalid("header %s contains invalid characters", name)
		}
		switch {
		case lower == "reply-to":
			list, err := mail.ParseAddressList(value)
			if err != nil {
				return nil, invalid("header %s is not an address list", name)
			}
			var parts []string
			for _, a := range list {
				addr, err := asciiAddress(a.Address)
				if err != nil {
					return nil, invalid("header %s: %v", name, err)
				}
				parts = append(parts, formatAddress(a.Name, addr, len(name)+2))
			}
			value = strings.Join(parts, ", ")
		case !isASCII(value):
			value = qEncode(value, len(name)+2)
		}
		out = append(out, field{name, value})
	}
	return out, nil
}

// validFieldName reports an RFC 5322 field name: printable ASCII except ":".
func validFieldName(name string) bool {
	if name == "" || len(name) > 76 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < '!' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

type attachmentPart struct {
	header textproto.MIMEHeader
	data   []byte
}

func attachmentHeaders(atts []Attachment) ([]attachmentPart, error) {
	out := make([]attachmentPart, 0, len(atts))
	for i, a := range atts {
		n := i + 1
		if a.Name == "" || len(a.Name) > maxName || !utf8.ValidString(a.Name) {
			return nil, invalid("attachment %d: name is empty, too long or not UTF-8", n)
		}
		if strings.ContainsAny(a.Name, "\r\n") {
			return nil, invalid("attachment %d: name contains a line break", n)
		}
		if strings.ContainsFunc(a.Name, unicode.IsControl) || strings.ContainsAny(a.Name, `/\`) {
			return nil, invalid("attachment %d: name contains a control character or a directory", n)
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if strings.ContainsAny(ct, "\r\n") {
			return nil, invalid("attachment %d: content type contains a line break", n)
		}
		mt, params, err := mime.ParseMediaType(ct)
		typ, sub, _ := strings.Cut(mt, "/")
		if err != nil || typ == "" || sub == "" || typ == "multipart" || typ == "message" {
			return nil, invalid("attachment %d: content type is not valid for an attachment", n)
		}
		delete(params, "name")
		ctValue := mime.FormatMediaType(mt, params)
		if ctValue == "" {
			return nil, invalid("attachment %d: content type cannot be encoded", n)
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", foldValue("Content-Type", ctValue+"; "+formatParam("name", a.Name)))
		h.Set("Content-Disposition", foldValue("Content-Disposition", "attachment; "+formatParam("filename", a.Name)))
		h.Set("Content-Transfer-Encoding", "base64")
		out = append(out, attachmentPart{h, a.Data})
	}
	return out, nil
}

// formatParam formats a MIME parameter: as a token or quoted string when
// short and ASCII, else per RFC 2231 as UTF-8, percent-encoded, split into
// numbered sections (at character boundaries) that fold fits in a line.
func formatParam(key, value string) string {
	const section = 60
	if plain := mime.FormatMediaType("x", map[string]string{key: value}); isASCII(value) && len(plain) <= section {
		return plain[len("x; "):]
	}
	var parts []string
	var cur strings.Builder
	cur.WriteString("utf-8''")
	var rb [utf8.UTFMax]byte
	for _, r := range value {
		var enc strings.Builder
		for _, c := range rb[:utf8.EncodeRune(rb[:], r)] {
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
				enc.WriteByte(c)
			} else {
				fmt.Fprintf(&enc, "%%%02X", c)
			}
		}
		if cur.Len()+enc.Len() > section {
			parts = append(parts, cur.String())
			cur.Reset()
		}
		cur.WriteString(enc.String())
	}
	parts = append(parts, cur.String())
	if len(parts) == 1 {
		return key + "*=" + parts[0]
	}
	for i, p := range parts {
		parts[i] = fmt.Sprintf("%s*%d*=%s", key, i, p)
	}
	return strings.Join(parts, "; ")
}

// messageID returns a random Message-ID at the domain of addr.
func messageID(addr string) string {
	var b [16]byte
	rand.Read(b[:]) // never fails
	return "<" + hex.EncodeToString(b[:]) + "@" + addr[strings.LastIndexByte(addr, '@')+1:] + ">"
}

// writeBody writes the Content-* fields, the blank line and the body.
func writeBody(b *bytes.Buffer, m Message, atts []attachmentPart) {
	h, body := content(m)
	if len(atts) == 0 {
		writeField(b, "Content-Type", strings.ReplaceAll(h.Get("Content-Type"), "\r\n", ""))
		if cte := h.Get("Content-Transfer-Encoding"); cte != "" {
			writeField(b, "Content-Transfer-Encoding", cte)
		}
		b.WriteString("\r\n")
		b.Write(body)
		return
	}
	var parts bytes.Buffer
	mixed := multipart.NewWriter(&parts)
	writeField(b, "Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mixed.Boundary()}))
	b.WriteString("\r\n")
	// Writes to a bytes.Buffer do not fail.
	w, _ := mixed.CreatePart(h)
	w.Write(body)
	for _, a := range atts {
		w, _ := mixed.CreatePart(a.header)
		w.Write(base64Lines(a.data))
	}
	mixed.Close()
	b.Write(parts.Bytes())
}

// content returns the header and body of the text, or of the
// multipart/alternative of text and HTML.
func content(m Message) (textproto.MIMEHeader, []byte) {
	text := textproto.MIMEHeader{}
	text.Set("Content-Type", "text/plain; charset=utf-8")
	text.Set("Content-Transfer-Encoding", "quoted-printable")
	if m.HTML == "" {
		return text, quotedPrintable(m.Text)
	}
	html := textproto.MIMEHeader{}
	html.Set("Content-Type", "text/html; charset=utf-8")
	html.Set("Content-Transfer-Encoding", "quoted-printable")
	var buf bytes.Buffer
	alt := multipart.NewWriter(&buf)
	w, _ := alt.CreatePart(text)
	w.Write(quotedPrintable(m.Text))
	w, _ = alt.CreatePart(html)
	w.Write(quotedPrintable(m.HTML))
	alt.Close()
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", foldValue("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": alt.Boundary()})))
	return h, buf.Bytes()
}

// quotedPrintable encodes s with CRLF line breaks (any of CRLF, CR and LF in
// s is one) and a final line break.
func quotedPrintable(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	var buf bytes.Buffer
	w := quotedprintable.NewWriter(&buf)
	w.Write([]byte(s))
	w.Close()
	return buf.Bytes()
}

// base64Lines encodes data in lines of 76 characters.
func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// writeField writes one header field, folded.
func writeField(b *bytes.Buffer, name, value string) {
	b.WriteString(fold(name + ": " + value))
	b.WriteString("\r\n")
}

// fold breaks a header line before spaces so that lines stay within foldAt
// where the words allow it. It keeps the first word of the value on the line
// of the field name and never makes a line of white space only.
func fold(line string) string {
	if len(line) <= foldAt {
		return line
	}
	var b strings.Builder
	n := 0 // length of the current line
	for i, segs := 0, 0; i < len(line); segs++ {
		// A segment is a run of spaces and the word that follows; trailing
		// spaces join the last word.
		j := i
		for j < len(line) && line[j] == ' ' {
			j++
		}
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if strings.TrimLeft(line[j:], " ") == "" {
			j = len(line)
		}
		seg := line[i:j]
		if segs > 1 && seg[0] == ' ' && n+len(seg) > foldAt {
			b.WriteString("\r\n")
			n = 0
		}
		b.WriteString(seg)
		n += len(seg)
		i = j
	}
	return b.String()
}

// foldValue folds the value of a field that another writer (mime/multipart)
// puts after "name: ".
func foldValue(name, value string) string {
	return fold(name + ": " + value)[len(name)+2:]
}

// encodeText returns an unstructured header value (such as the subject),
// encoded when needsEncoding says so.
func encodeText(name, s string) string {
	if !needsEncoding(s) {
		return s
	}
	return qEncode(s, len(name)+2)
}

// needsEncoding reports text that cannot go into a header as it is: non-ASCII
// or control characters, "=?" (which a reader would decode), or a word too
// long to fold.
func needsEncoding(s string) bool {
	if strings.Contains(s, "=?") {
		return true
	}
	seg := 0 // length of the current run of spaces and the word after it
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x7f || c < ' ' && c != '\t' {
			return true
		}
		if c == ' ' && i > 0 && s[i-1] != ' ' {
			seg = 0
		}
		if seg++; seg > foldAt-2 {
			return true
		}
	}
	return false
}

// qEncode encodes s as RFC 2047 Q encoded-words of UTF-8, at most 75
// characters each, separated by spaces where fold may break the line. The
// first word is shortened to fit the used characters of its line. Only
// letters, digits and "!*+-/" stay literal, so the words are valid in a
// phrase (a display name) too.
func qEncode(s string, used int) string {
	const prefix, suffix = "=?utf-8?q?", "?="
	const full = maxWordLen - len(prefix) - len(suffix)
	budget := foldAt - used - len(prefix) - len(suffix)
	if budget < 12 { // room for one encoded 4-byte rune
		budget = full
	}
	var out, word strings.Builder
	var rb [utf8.UTFMax]byte
	for _, r := range s {
		var enc [3 * utf8.UTFMax]byte
		e := enc[:0]
		for _, c := range rb[:utf8.EncodeRune(rb[:], r)] {
			switch {
			case c == ' ':
				e = append(e, '_')
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("!*+-/", c) >= 0:
				e = append(e, c)
			default:
				e = append(e, '=', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
			}
		}
		if word.Len()+len(e) > budget {
			out.WriteString(prefix + word.String() + suffix + " ")
			word.Reset()
			budget = full
		}
		word.Write(e)
	}
	out.WriteString(prefix + word.String() + suffix)
	return out.String()
}

// checkLines verifies CRLF line endings and the line length limit.
func checkLines(raw []byte) error {
	start := 0
	for i, c := range raw {
		switch c {
		case '\r':
			if i+1 >= len(raw) || raw[i+1] != '\n' {
				return invalid("bare CR in output")
			}
		case '\n':
			if i == 0 || raw[i-1] != '\r' {
				return invalid("bare LF in output")
			}
			if i-1-start > maxLine {
				return invalid("a line is longer than %d octets", maxLine)
			}
			start = i + 1
		}
	}
	if len(raw)-start > maxLine {
		return invalid("a line is longer than %d octets", maxLine)
	}
	return nil
}

// isDotAtom reports an RFC 5322 dot-atom: atext words joined by single dots.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasControl reports a control character other than tab.
func hasControl(s string) bool {
	for _, r := range s {
		if r < ' ' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return true
		}
	}
	return false
}
