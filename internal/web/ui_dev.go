package web

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type outboxMessage struct {
	File, Date, To, Subject, Body string
}

// handleDevOutbox shows the development outbox: the emails Kandidat would
// have sent, newest first. It exists only with --dev and answers only
// requests from this machine.
func (s *Server) handleDevOutbox(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	// A request relayed by a proxy on this machine is not from this machine.
	forwarded := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != ""
	// A page of another site whose name resolves to 127.0.0.1 (DNS rebinding)
	// reaches this machine too, but with its own name in Host.
	if s.opts.OutboxDir == "" || !isLoopbackHost(host) || forwarded || !isLoopbackName(r.Host) {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	files, _ := filepath.Glob(filepath.Join(s.opts.OutboxDir, "*.eml"))
	slices.Reverse(files)
	if len(files) > 50 {
		files = files[:50]
	}
	var msgs []outboxMessage
	dec := new(mime.WordDecoder)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			continue
		}
		subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
		var body []byte
		if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body, _ = io.ReadAll(quotedprintable.NewReader(m.Body))
		} else {
			body, _ = io.ReadAll(m.Body)
		}
		msgs = append(msgs, outboxMessage{File: filepath.Base(f), Date: m.Header.Get("Date"), To: m.Header.Get("To"), Subject: subject, Body: string(body)})
	}
	pg := s.newPage(r, "outbox.title")
	pg.Data = msgs
	s.render(w, r, http.StatusOK, "outbox", pg)
}

// isLoopbackName reports whether a Host header names this machine:
// localhost or a loopback address, with or without a port.
func isLoopbackName(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.EqualFold(h, "localhost") || isLoopbackHost(h)
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
