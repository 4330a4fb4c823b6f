package recruit

import (
	"fmt"
	"strings"
	"time"
)

// Event is one calendar event, written as an iCalendar (RFC 5545) request.
type Event struct {
	UID         string
	Sequence    int
	Start, End  time.Time
	Summary     string
	Location    string
	URL         string
	Description string
	// Method is REQUEST for an invitation, CANCEL for a cancellation.
	Method    string
	Attendee  string
	Organizer string
	Stamp     time.Time
}

// ICS writes the event as a calendar file.
func (e Event) ICS() []byte {
	var b strings.Builder
	line := func(name, value string) { b.WriteString(fold(name + ":" + value)) }
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	method := e.Method
	if method == "" {
		method = "REQUEST"
	}
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//Kandidat//Interviews//EN")
	line("METHOD", method)
	line("BEGIN", "VEVENT")
	line("UID", icsText(e.UID))
	line("SEQUENCE", fmt.Sprint(e.Sequence))
	line("DTSTAMP", utc(e.Stamp))
	line("DTSTART", utc(e.Start))
	line("DTEND", utc(e.End))
	line("SUMMARY", icsText(e.Summary))
	if e.Location != "" {
		line("LOCATION", icsText(e.Location))
	}
	if e.URL != "" {
		line("URL", e.URL)
	}
	if e.Description != "" {
		line("DESCRIPTION", icsText(e.Description))
	}
	if e.Organizer != "" {
		line("ORGANIZER", "mailto:"+e.Organizer)
	}
	if e.Attendee != "" {
		line("ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE", "mailto:"+e.Attendee)
	}
	if method == "CANCEL" {
		line("STATUS", "CANCELLED")
	} else {
		line("STATUS", "CONFIRMED")
	}
	line("END", "VEVENT")
	line("END", "VCALENDAR")
	return []byte(b.String())
}

// icsText escapes a TEXT value: backslash, semicolon, comma and line breaks.
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// fold breaks a content line into lines of at most 75 octets, never inside
// a UTF-8 sequence, and ends it with CRLF.
func fold(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	b.WriteString("\r\n")
	return b.String()
}
