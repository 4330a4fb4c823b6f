package account

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Password length limits, counted in characters after Unicode normalisation.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

// CheckPassword applies the standard password policy (the seeds' promise:
// 8 to 128 characters, at least two of letters, digits and other
// characters, nothing built from the login) and returns the message key of
// the first rule broken, or "". The accounts module adds the strict profile
// and the common-password list behind this same function.
func CheckPassword(password, login string) string {
	if !utf8.ValidString(password) {
		return "error.password_invalid"
	}
	if len(password) > maxPasswordBytes {
		return "error.password_long"
	}
	p := norm.NFC.String(password)
	n := utf8.RuneCountInString(p)
	if n < MinPasswordLen {
		return "error.password_short"
	}
	if n > MaxPasswordLen {
		return "error.password_long"
	}
	var letters, digits, others bool
	for _, r := range p {
		switch {
		case unicode.IsLetter(r):
			letters = true
		case unicode.IsDigit(r):
			digits = true
		case unicode.IsControl(r):
			return "error.password_invalid"
		default:
			others = true
		}
	}
	classes := 0
	for _, b := range []bool{letters, digits, others} {
		if b {
			classes++
		}
	}
	if classes < 2 {
		return "error.password_classes"
	}
	if login != "" && len(login) >= 3 && strings.Contains(strings.ToLower(p), strings.ToLower(login)) {
		return "error.password_contains_login"
	}
	return ""
}
