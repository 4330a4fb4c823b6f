package notify

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
)

// leaf is one non-multipart body part of a parsed message, decoded.
type leaf struct {
	path      string // media types from the top, e.g. "multipart/mixed > text/plain"
	mediaType string
	params    map[string]string
	cte       string // Content-Transfer-Encoding as sent
	filename  string // from Content-Disposition, RFC 2231 decoded
	data      []byte
}

// parse reads raw with net/mail and walks its MIME tree with mime/multipart.
func parse(t *testing.T, raw []byte) (*mail.Message, []leaf) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("mail.ReadMessage: %v", err)
	}
	return msg, walk(t, "", textproto.MIMEHeader(msg.Header), msg.Body)
}

func walk(t *testing.T, path string, h textproto.MIMEHeader, body io.Reader) []leaf {
	t.Helper()
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	if path != "" {
		path += " > "
	}
	path += mt
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		var out []leaf
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatalf("%s: next part: %v", path, err)
			}
			out = append(out, walk(t, path, p.Header, p)...)
		}
	}
	l := leaf{path: path, mediaType: mt, params: params, cte: h.Get("Content-Transfer-Encoding")}
	if cd := h.Get("Content-Disposition"); cd != "" {
		_, dp, err := mime.ParseMediaType(cd)
		if err != nil {
			t.Fatalf("Content-Disposition %q: %v", cd, err)
		}
		l.filename = dp["filename"]
	}
	switch l.cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	l.data, err = io.ReadAll(body)
	if err != nil {
		t.Fatalf("%s: read body: %v", path, err)
	}
	return []leaf{l}
}

// checkWire fails on a bare CR or LF or a line over 998 octets.
func checkWire(t *testing.T, raw []byte) {
	t.Helper()
	if err := checkLines(raw); err != nil {
		t.Errorf("output: %v", err)
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("output does not end in CRLF")
	}
}

// headerLines returns the header section split into lines.
func headerLines(raw []byte) []string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	return strings.Split(string(head), "\r\n")
}

// crlf returns s as Compose encodes a body: CRLF line breaks, final break.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return strings.ReplaceAll(s, "\n", "\r\n")
}
