package account

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Password length limits of the standard profile, counted in characters
// after Unicode normalisation.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
	// MinStrictPasswordLen is the strict profile's minimum (OWASP ASVS L3).
	MinStrictPasswordLen = 15
)

// Profile is a company's password policy.
type Profile string

// The profiles.
const (
	// Standard is the seeds' policy: 8 to 128 characters, at least two of
	// letters, digits and other characters.
	Standard Profile = "standard"
	// Strict is ASVS level 3: at least 15 characters, no composition rule.
	Strict Profile = "strict"
)

// PasswordContext is what a password must not be built from.
type PasswordContext struct {
	Login, Email, Company string
}

//go:embed common-passwords.txt
var commonList string

var common = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonList, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			m[line] = true
		}
	}
	return m
}()

// CheckPassword applies the standard profile with the login only.
func CheckPassword(password, login string) string {
	return CheckPasswordPolicy(Standard, password, PasswordContext{Login: login})
}

// CheckPasswordPolicy returns the message key of the first rule password
// breaks under profile p, or "". Both profiles refuse common passwords,
// sequences and repeats (123456, abcdef, qwerty, aaaa, abcabc) and anything
// containing the login, the local part of the email or the company name.
func CheckPasswordPolicy(p Profile, password string, c PasswordContext) string {
	if !utf8.ValidString(password) {
		return "error.password_invalid"
	}
	if len(password) > maxPasswordBytes {
		return "error.password_long"
	}
	pw := norm.NFC.String(password)
	n := utf8.RuneCountInString(pw)
	min := MinPasswordLen
	if p == Strict {
		min = MinStrictPasswordLen
	}
	if n < min {
		if p == Strict {
			return "error.password_short_strict"
		}
		return "error.password_short"
	}
	if n > MaxPasswordLen {
		return "error.password_long"
	}
	var letters, digits, others bool
	for _, r := range pw {
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
	if p != Strict {
		classes := 0
		for _, b := range []bool{letters, digits, others} {
			if b {
				classes++
			}
		}
		if classes < 2 {
			return "error.password_classes"
		}
	}
	lower := strings.ToLower(pw)
	if isCommon(lower) {
		return "error.password_common"
	}
	if isTrivial(lower) || isTrivial(strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })) {
		return "error.password_trivial"
	}
	local, _, _ := strings.Cut(strings.ToLower(c.Email), "@")
	for _, part := range []string{strings.ToLower(c.Login), local} {
		if utf8.RuneCountInString(part) >= 3 && strings.Contains(lower, part) {
			return "error.password_contains_login"
		}
	}
	if company := strings.ToLower(strings.TrimSpace(c.Company)); utf8.RuneCountInString(company) >= 4 {
		compact := strings.ReplaceAll(company, " ", "")
		if strings.Contains(lower, company) || strings.Contains(lower, compact) {
			return "error.password_contains_company"
		}
	}
	return ""
}

// isCommon reports a common password, also with decoration around it
// ("Password1!", "!qwerty2024").
func isCommon(s string) bool {
	if common[s] {
		return true
	}
	core := strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if utf8.RuneCountInString(core) >= 4 && common[core] {
		return true
	}
	core = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
	return utf8.RuneCountInString(core) >= 4 && common[core]
}

var keyboardRows = []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn"}

// isTrivial reports a password that is one sequence, keyboard run or
// repetition of a short unit.
func isTrivial(s string) bool {
	rs := []rune(s)
	if len(rs) < 2 {
		return true
	}
	// A repeated unit: aaaa, abab, abcabc, qwertyqwerty.
	for unit := 1; unit <= len(rs)/2; unit++ {
		if len(rs)%unit != 0 {
			continue
		}
		repeated := true
		for i := unit; i < len(rs); i++ {
			if rs[i] != rs[i-unit] {
				repeated = false
				break
			}
		}
		if repeated {
			return true
		}
	}
	// A straight sequence, up or down: abcdefgh, 98765432.
	up, down := true, true
	for i := 1; i < len(rs); i++ {
		up = up && rs[i] == rs[i-1]+1
		down = down && rs[i] == rs[i-1]-1
	}
	if up || down {
		return true
	}
	// A run along a keyboard row, either way.
	for _, row := range keyboardRows {
		if strings.Contains(row, s) || strings.Contains(reverse(row), s) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
