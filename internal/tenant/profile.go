package tenant

import (
	"net/mail"
	"regexp"
	"time"
	_ "time/tzdata" // time zones without the system's database
	"unicode/utf8"
)

// TimeZones are the time zones offered in lists; any IANA name is accepted.
var TimeZones = []string{"Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki", "Europe/Bratislava", "Europe/Prague",
	"Europe/Vienna", "Europe/Berlin", "Europe/Warsaw", "Europe/Budapest", "Europe/Paris", "Europe/Amsterdam", "Europe/Brussels",
	"Europe/London", "Europe/Dublin", "Europe/Lisbon", "UTC"}

// DefaultTimeZone is the time zone a company of that language most likely
// works in, until it chooses its own.
func DefaultTimeZone(language string) string {
	switch language {
	case "sv":
		return "Europe/Stockholm"
	case "nb":
		return "Europe/Oslo"
	case "sk":
		return "Europe/Bratislava"
	case "cs":
		return "Europe/Prague"
	}
	return "Europe/London"
}

// Zone is the time zone the company works in: its own choice, else the
// one its default language suggests.
func (t *Tenant) Zone() string {
	if t.Settings.TimeZone != "" {
		return t.Settings.TimeZone
	}
	return DefaultTimeZone(t.DefaultLanguage)
}

// Bounds of a company's own session timeouts. A company may only shorten
// the installation's (the shorter of the two applies), and not below what
// leaves a user time to read a candidate's card.
const (
	MinSessionIdle     = 5 * time.Minute
	MaxSessionIdle     = 24 * time.Hour
	MinSessionAbsolute = time.Hour
	MaxSessionAbsolute = 30 * 24 * time.Hour
	maxRetentionDays   = 20 * 366
)

var colourPattern = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// validateProfile checks the company profile part of the settings.
func (in Settings) validateProfile(fields map[string]string) {
	if in.TimeZone != "" {
		// "Local" would be the server's zone, whatever that is.
		if _, err := time.LoadLocation(in.TimeZone); err != nil || in.TimeZone == "Local" || len(in.TimeZone) > 64 {
			fields["time_zone"] = "error.time_zone"
		}
	}
	if c := in.PrivacyContact; c != "" {
		a, err := mail.ParseAddress(c)
		if err != nil || a.Address != c || len(c) > 254 || !utf8.ValidString(c) {
			fields["privacy_contact"] = "error.email_format"
		}
	}
	if in.CareerColour != "" && !colourPattern.MatchString(in.CareerColour) {
		fields["career_colour"] = "error.colour"
	}
}

// validateSessions checks the company's own session timeouts.
func (in Settings) validateSessions(fields map[string]string) {
	if d := in.SessionIdle; d != 0 && (d < MinSessionIdle || d > MaxSessionIdle) {
		fields["session_idle"] = "error.session_idle"
	}
	if d := in.SessionAbsolute; d != 0 && (d < MinSessionAbsolute || d > MaxSessionAbsolute) {
		fields["session_absolute"] = "error.session_absolute"
	}
	if in.SessionIdle != 0 && in.SessionAbsolute != 0 && in.SessionIdle > in.SessionAbsolute && fields["session_idle"] == "" {
		fields["session_idle"] = "error.session_idle_longer"
	}
}
