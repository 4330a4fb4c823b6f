package notify

import (
	"bytes"
	"errors"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var testTime = time.Date(2026, 3, 9, 14, 5, 7, 0, time.FixedZone("CET", 3600))

func TestComposeStructure(t *testing.T) {
	ics := Attachment{Name: "invite.ics", ContentType: "text/calendar; method=REQUEST; charset=utf-8", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}
	tests := []struct {
		name  string
		m     Message
		top   string
		paths []string
	}{
		{"text", Message{Text: "hi"}, "text/plain", []string{"text/plain"}},
		{"text and HTML", Message{Text: "hi", HTML: "<p>hi</p>"}, "multipart/alternative",
			[]string{"multipart/alternative > text/plain", "multipart/alternative > text/html"}},
		{"text and attachment", Message{Text: "hi", Attachments: []Attachment{ics}}, "multipart/mixed",
			[]string{"multipart/mixed > text/plain", "multipart/mixed > text/calendar"}},
		{"text, HTML and attachments", Message{Text: "hi", HTML: "<p>hi</p>", Attachments: []Attachment{ics, {Name: "cv.pdf", Data: []byte("%PDF")}}}, "multipart/mixed",
			[]string{"multipart/mixed > multipart/alternative > text/plain", "multipart/mixed > multipart/alternative > text/html",
				"multipart/mixed > text/calendar", "multipart/mixed > application/octet-stream"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.m.To = []string{"ana@example.org"}
			raw, err := Compose("jobs@example.com", tt.m, testTime)
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			checkWire(t, raw)
			msg, leaves := parse(t, raw)
			if mt, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mt != tt.top {
				t.Errorf("got Content-Type %s, want %s", mt, tt.top)
			}
			var paths []string
			for _, l := range leaves {
				paths = append(paths, l.path)
				wantCTE := "quoted-printable"
				if l.filename != "" {
					wantCTE = "base64"
				}
				if l.cte != wantCTE {
					t.Errorf("%s: got Content-Transfer-Encoding %q, want %q", l.path, l.cte, wantCTE)
				}
				if strings.HasPrefix(l.mediaType, "text/") && l.filename == "" && l.params["charset"] != "utf-8" {
					t.Errorf("%s: got charset %q, want utf-8", l.path, l.params["charset"])
				}
			}
			if got, want := strings.Join(paths, "; "), strings.Join(tt.paths, "; "); got != want {
				t.Errorf("got parts %s, want %s", got, want)
			}
		})
	}
}

func TestComposeHeaders(t *testing.T) {
	m := Message{
		To:      []string{"ana@example.org", "jan@příklad.cz"},
		Subject: "Pozvánka na pohovor",
		Text:    "Dobrý den",
		Headers: map[string]string{
			"Auto-Submitted": "auto-generated",
			"X-Tenant-Note":  "Přijímací řízení",
			"Reply-To":       "Personální oddělení <hr@firma.example>",
		},
	}
	raw, err := Compose("Přijímací tým <jobs@example.com>", m, testTime)
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	checkWire(t, raw)
	msg, _ := parse(t, raw)
	dec := new(mime.WordDecoder)
	decode := func(s string) string {
		d, err := dec.DecodeHeader(s)
		if err != nil {
			t.Fatalf("decode %q: %v", s, err)
		}
		return d
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From: got %v, %v", from, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil {
		t.Fatalf("To: %v", err)
	}
	var toAddrs []string
	for _, a := range to {
		toAddrs = append(toAddrs, a.Address)
	}
	replyTo, err := msg.Header.AddressList("Reply-To")
	if err != nil || len(replyTo) != 1 {
		t.Fatalf("Reply-To: got %v, %v", replyTo, err)
	}
	date, err := msg.Header.Date()
	if err != nil {
		t.Fatalf("Date: %v", err)
	}
	tests := []struct{ name, got, want string }{
		{"Date", date.Format(time.RFC3339), testTime.Format(time.RFC3339)},
		{"From name", from[0].Name, "Přijímací tým"},
		{"From address", from[0].Address, "jobs@example.com"},
		{"To", strings.Join(toAddrs, ", "), "ana@example.org, jan@xn--pklad-zsa96e.cz"},
		{"Subject", decode(msg.Header.Get("Subject")), "Pozvánka na pohovor"},
		{"MIME-Version", msg.Header.Get("MIME-Version"), "1.0"},
		{"Auto-Submitted", msg.Header.Get("Auto-Submitted"), "auto-generated"},
		{"X-Tenant-Note", decode(msg.Header.Get("X-Tenant-Note")), "Přijímací řízení"},
		{"Reply-To", replyTo[0].Name + " " + replyTo[0].Address, "Personální oddělení hr@firma.example"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	id := msg.Header.Get("Message-ID")
	if !regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`).MatchString(id) {
		t.Errorf("got Message-ID %q, want <32 hex digits@example.com>", id)
	}
	again, err := Compose("jobs@example.com", m, testTime)
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	msg2, _ := parse(t, again)
	if id2 := msg2.Header.Get("Message-ID"); id2 == id {
		t.Errorf("got the same Message-ID twice: %s", id)
	}
}

func TestComposeSubject(t *testing.T) {
	tests := []struct {
		name, subject string
		encoded       bool
	}{
		{"ASCII", "Your application", false},
		{"empty", "", false},
		{"diacritics", "Přihláška: Jiří Čapek, Märta", true},
		{"long non-ASCII", strings.Repeat("Žluťoučký kůň úpěl ďábelské ódy. ", 12), true},
		{"long ASCII", strings.Repeat("Interview invitation for the position ", 10), false},
		{"unbreakable ASCII word", strings.Repeat("x", 200), true},
		{"encoded-word lookalike", "=?utf-8?q?=E2=80=AE?= hello", true},
		{"control character", "a\x00b\x1bc", true},
		{"emoji", "Hotovo 🎉", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := Compose("jobs@example.com", Message{To: []string{"ana@example.org"}, Subject: tt.subject, Text: "x"}, testTime)
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			checkWire(t, raw)
			for _, line := range headerLines(raw) {
				if len(line) > foldAt {
					t.Errorf("got header line of %d octets, want at most %d: %q", len(line), foldAt, line)
				}
			}
			msg, _ := parse(t, raw)
			field := msg.Header.Get("Subject")
			if got := strings.Contains(field, "=?utf-8?q?"); got != tt.encoded {
				t.Errorf("got encoded %v, want %v: %q", got, tt.encoded, field)
			}
			got, err := new(mime.WordDecoder).DecodeHeader(field)
			if err != nil {
				t.Fatalf("decode subject: %v", err)
			}
			// Unfolding may merge white space; nothing else may change.
			if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(tt.subject), " ") {
				t.Errorf("got subject %q, want %q", got, tt.subject)
			}
			if tt.encoded && got != tt.subject {
				t.Errorf("got subject %q, want exactly %q", got, tt.subject)
			}
		})
	}
}

func TestComposeBodies(t *testing.T) {
	text := "Dobrý den,\n.a line starting with a dot\r\nCRLF and a lone CR\rend \t\n" + strings.Repeat("ä", 3000) + "\nFrom the team"
	html := "<p>Dobrý den</p>\n" + strings.Repeat("<b>x</b>", 500)
	pdf := bytes.Repeat([]byte{0, 1, 2, '\r', '\n', '.', 0xff}, 1000)
	raw, err := Compose("jobs@example.com", Message{
		To: []string{"ana@example.org"}, Subject: "x", Text: text, HTML: html,
		Attachments: []Attachment{{Name: "Životopis – Čapek.pdf", ContentType: "application/pdf", Data: pdf}},
	}, testTime)
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	checkWire(t, raw)
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("got line of %d octets, want at most 78 (quoted-printable and base64 wrap at 76): %.40q", len(line), line)
		}
	}
	_, leaves := parse(t, raw)
	if len(leaves) != 3 {
		t.Fatalf("got %d parts, want 3", len(leaves))
	}
	tests := []struct {
		name      string
		got, want []byte
	}{
		{"text", leaves[0].data, []byte(crlf(text))},
		{"HTML", leaves[1].data, []byte(crlf(html))},
		{"attachment", leaves[2].data, pdf},
		{"file name", []byte(leaves[2].filename), []byte("Životopis – Čapek.pdf")},
		{"name parameter", []byte(leaves[2].params["name"]), []byte("Životopis – Čapek.pdf")},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s: got %.80q, want %.80q", tt.name, tt.got, tt.want)
		}
	}
}

func TestComposeAttachmentNames(t *testing.T) {
	tests := []string{
		"cv.pdf",
		"my cv (final).pdf",
		`quote "and" backslash.txt`,
		"Životopis – Čapek.pdf",
		strings.Repeat("long name ", 25) + ".txt",
		strings.Repeat("ř", 125) + ".pdf",
		"🎉" + strings.Repeat("é", 100),
	}
	for _, name := range tests {
		t.Run(name[:min(len(name), 20)], func(t *testing.T) {
			raw, err := Compose("jobs@example.com", Message{To: []string{"ana@example.org"}, Text: "x",
				Attachments: []Attachment{{Name: name, ContentType: "text/plain; charset=utf-8", Data: []byte("data")}}}, testTime)
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			checkWire(t, raw)
			for _, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > foldAt {
					t.Errorf("got line of %d octets, want at most %d: %q", len(line), foldAt, line)
				}
			}
			_, leaves := parse(t, raw)
			att := leaves[len(leaves)-1]
			if att.filename != name || att.params["name"] != name {
				t.Errorf("got filename %q and name %q, want %q", att.filename, att.params["name"], name)
			}
			if att.params["charset"] != "utf-8" || string(att.data) != "data" {
				t.Errorf("got charset %q and data %q, want utf-8 and data", att.params["charset"], att.data)
			}
		})
	}
}

func TestComposeRejects(t *testing.T) {
	ok := Message{To: []string{"ana@example.org"}, Subject: "Hello", Text: "Hi"}
	tests := []struct {
		name   string
		from   string
		change func(m *Message)
	}{
		{"no recipient", "", func(m *Message) { m.To = nil }},
		{"LF in subject", "", func(m *Message) { m.Subject = "Hi\nBcc: eve@example.net" }},
		{"CRLF in subject", "", func(m *Message) { m.Subject = "Hi\r\nBcc: eve@example.net" }},
		{"CR in subject", "", func(m *Message) { m.Subject = "Hi\rBcc: eve@example.net" }},
		{"CRLF in recipient", "", func(m *Message) { m.To = []string{"ana@example.org\r\nBcc: eve@example.net"} }},
		{"recipient list in one string", "", func(m *Message) { m.To = []string{"ana@example.org, eve@example.net"} }},
		{"display name in recipient", "", func(m *Message) { m.To = []string{"Ana <ana@example.org>"} }},
		{"not an address", "", func(m *Message) { m.To = []string{"ana"} }},
		{"empty recipient", "", func(m *Message) { m.To = []string{""} }},
		{"non-ASCII local part", "", func(m *Message) { m.To = []string{"jiří@example.cz"} }},
		{"bad IDN domain", "", func(m *Message) { m.To = []string{"a@ä-.cz"} }},
		{"CRLF in sender", "jobs@example.com\r\nBcc: eve@example.net", nil},
		{"bad sender", "jobs", nil},
		{"quoted local part in sender", `"jobs desk"@example.com`, nil},
		{"CRLF in header value", "", func(m *Message) { m.Headers = map[string]string{"X-A": "1\r\nBcc: eve@example.net"} }},
		{"LF in header value", "", func(m *Message) { m.Headers = map[string]string{"X-A": "1\nBcc: eve@example.net"} }},
		{"CRLF in header name", "", func(m *Message) { m.Headers = map[string]string{"X-A\r\nBcc": "eve@example.net"} }},
		{"colon in header name", "", func(m *Message) { m.Headers = map[string]string{"Bcc: eve@example.net\r\nX-A": "1"} }},
		{"space in header name", "", func(m *Message) { m.Headers = map[string]string{"X A": "1"} }},
		{"empty header name", "", func(m *Message) { m.Headers = map[string]string{"": "1"} }},
		{"Bcc header", "", func(m *Message) { m.Headers = map[string]string{"bcc": "eve@example.net"} }},
		{"Content-Type header", "", func(m *Message) { m.Headers = map[string]string{"Content-Type": "text/html"} }},
		{"header twice", "", func(m *Message) { m.Headers = map[string]string{"X-A": "1", "x-a": "2"} }},
		{"control character in header", "", func(m *Message) { m.Headers = map[string]string{"X-A": "a\x00b"} }},
		{"bad Reply-To", "", func(m *Message) { m.Headers = map[string]string{"Reply-To": "not an address"} }},
		{"unfoldable header", "", func(m *Message) { m.Headers = map[string]string{"X-A": strings.Repeat("a", 1000)} }},
		{"empty text", "", func(m *Message) { m.Text = "" }},
		{"blank text", "", func(m *Message) { m.Text = " \r\n\t" }},
		{"invalid UTF-8 subject", "", func(m *Message) { m.Subject = "a\xffb" }},
		{"invalid UTF-8 text", "", func(m *Message) { m.Text = "a\xffb" }},
		{"invalid UTF-8 HTML", "", func(m *Message) { m.HTML = "a\xffb" }},
		{"CRLF in attachment name", "", func(m *Message) {
			m.Attachments = []Attachment{{Name: "a.pdf\r\nBcc: eve@example.net", Data: []byte("x")}}
		}},
		{"directory in attachment name", "", func(m *Message) { m.Attachments = []Attachment{{Name: "../a.pdf", Data: []byte("x")}} }},
		{"empty attachment name", "", func(m *Message) { m.Attachments = []Attachment{{Data: []byte("x")}} }},
		{"CRLF in content type", "", func(m *Message) {
			m.Attachments = []Attachment{{Name: "a.pdf", ContentType: "application/pdf\r\nBcc: eve@example.net", Data: []byte("x")}}
		}},
		{"bad content type", "", func(m *Message) { m.Attachments = []Attachment{{Name: "a", ContentType: "pdf", Data: []byte("x")}} }},
		{"multipart attachment", "", func(m *Message) {
			m.Attachments = []Attachment{{Name: "a", ContentType: "multipart/mixed; boundary=x", Data: []byte("x")}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			m.To = append([]string(nil), ok.To...)
			if tt.change != nil {
				tt.change(&m)
			}
			from := tt.from
			if from == "" {
				from = "jobs@example.com"
			}
			raw, err := Compose(from, m, testTime)
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("got %v, want ErrInvalidMessage", err)
			}
			if raw != nil {
				t.Errorf("got %d bytes with the error, want none", len(raw))
			}
			if !IsPermanent(err) {
				t.Errorf("got IsPermanent false, want true")
			}
			if strings.Contains(err.Error(), "eve@") {
				t.Errorf("got error %q, want no address in it", err)
			}
		})
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Subject: short", "Subject: short"},
		{"Subject:" + strings.Repeat(" word", 20) + " end", "Subject:" + strings.Repeat(" word", 14) + "\r\n" + strings.Repeat(" word", 6) + " end"},
		{"X: " + strings.Repeat("a", 80) + "   ", "X: " + strings.Repeat("a", 80) + "   "},
		{"X: a" + strings.Repeat(" ", 90) + "b", "X: a\r\n" + strings.Repeat(" ", 90) + "b"},
	}
	for _, tt := range tests {
		if got := fold(tt.in); got != tt.want {
			t.Errorf("fold(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzCompose checks that Compose never panics and that whatever it accepts
// is a well-formed message that says what it was given.
func FuzzCompose(f *testing.F) {
	f.Add("Hello", "Hi there", "ana@example.org")
	f.Add("Přihláška – Čapek", "Dobrý den,\n.\nS pozdravem", "jan@příklad.cz")
	f.Add("Hi\r\nBcc: eve@example.net", "x", "ana@example.org\r\nBcc: eve@example.net")
	f.Add("=?utf-8?q?=E2=80=AE?=", "line\rline\r\n", "Ana <ana@example.org>")
	f.Add(strings.Repeat("x", 1200), strings.Repeat("y ", 800), `"a b"@example.org`)
	f.Add("\t tab  and   spaces  ", "\x00\x01", "a@[127.0.0.1]")
	f.Fuzz(func(t *testing.T, subject, text, addr string) {
		raw, err := Compose("Jobs <jobs@example.com>", Message{To: []string{addr}, Subject: subject, Text: text}, testTime)
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("got error %v, want one wrapping ErrInvalidMessage", err)
			}
			return
		}
		for i, c := range raw {
			if c == '\n' && (i == 0 || raw[i-1] != '\r') {
				t.Fatalf("bare LF at %d", i)
			}
		}
		if err := checkLines(raw); err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("mail.ReadMessage: %v", err)
		}
		if _, err := msg.Header.AddressList("To"); err != nil {
			t.Fatalf("To does not parse: %v", err)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("Subject does not decode: %v", err)
		}
		if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(subject), " ") {
			t.Fatalf("got subject %q, want %q", got, subject)
		}
		_, leaves := parse(t, raw)
		if len(leaves) != 1 || string(leaves[0].data) != crlf(text) {
			t.Fatalf("got text %q, want %q", leaves[0].data, crlf(text))
		}
		if !utf8.Valid(leaves[0].data) {
			t.Fatalf("text is not UTF-8")
		}
	})
}
