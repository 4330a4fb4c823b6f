package account

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/match"
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
	// letters, digits and other characters, and at least 10^8 guesses by
	// the strength estimate (zxcvbn's score 3).
	Standard Profile = "standard"
	// Strict is ASVS level 3: at least 15 characters, no composition rule,
	// and at least 10^10 guesses (zxcvbn's score 4).
	Strict Profile = "strict"
)

// minGuesses is the strength a profile asks for: the number of guesses the
// estimate says a cracker needs, at the least. 10^8 is zxcvbn's score 3
// ("safely unguessable" behind a slow hash) without its small margin, so
// that eight characters that form no pattern pass the standard profile.
func (p Profile) minGuesses() float64 {
	if p == Strict {
		return 1e10
	}
	return 1e8
}

// PasswordContext is what a password must not be built from: the user's
// login, email address and name, and the company's name.
type PasswordContext struct {
	Login, Email, Company string
	// Name is the user's display name; empty when not known.
	Name string
}

// displayName returns the user's name for PasswordContext.Name. The name
// only adds words to the strength estimate, so a failed read leaves it out
// rather than failing the change (whose own writes would fail then anyway).
func (s *Service) displayName(ctx context.Context, tenantID, userID string) string {
	var name string
	err := s.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT display_name FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&name)
	})

	if err != nil {
		return ""
	}
	return name
}

// words returns the context's words for the strength estimate: each value
// whole and cut at spaces and punctuation, as in zxcvbn's user inputs.
func (c PasswordContext) words() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = lowerWord(norm.NFC.String(strings.TrimSpace(s)))
		if n := utf8.RuneCountInString(s); n < 3 || n > MaxPasswordLen || seen[s] || len(out) >= 32 {
			return // a one- or two-letter piece would match everywhere
		}
		seen[s] = true
		out = append(out, s)
	}
	whole := func(s string) {
		add(s)
		parts := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		add(strings.Join(parts, ""))
		for _, p := range parts {
			add(p)
		}
	}
	whole(c.Login)
	local, domain, _ := strings.Cut(c.Email, "@")
	whole(local)
	if labels := strings.Split(domain, "."); len(labels) > 1 {
		for _, l := range labels[:len(labels)-1] { // not the top-level domain
			whole(l)
		}
	}
	whole(c.Name)
	whole(c.Company)
	return out
}

// CheckPassword applies the standard profile with the login only.
func CheckPassword(password, login string) string {
	return CheckPasswordPolicy(Standard, password, PasswordContext{Login: login})
}

// CheckPasswordPolicy returns the message key of the first rule password
// breaks under profile p, or "". Both profiles refuse passwords on the
// breached-password list, sequences and repeats (123456, abcdef, qwerty,
// aaaa, abcabc) and anything containing the login, the local part of the
// email or the company name; then anything the strength estimate finds too
// easy to guess, with a message naming the weakest pattern it found.
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
	words := c.words()
	guesses, patterns := estimate(pw, words)
	if isCommon(lower) {
		// A breached password is refused whatever its estimate; the message
		// names the pattern that made it common where there is one
		// (abcdef12 is a sequence, aaaaaaa1 a repeat).
		switch msg := weakness(patterns, words); msg {
		case "error.password_sequence", "error.password_repeat", "error.password_keyboard":
			return msg
		}
		return "error.password_common"
	}
	if guesses < p.minGuesses() {
		return weakness(patterns, words)
	}
	return ""
}

// weakness names what makes a password too easy to guess: the longest
// pattern of the estimate's split, as zxcvbn's feedback does. A word that is
// also one of the user's own (Smith, a surname, for Alice Smith) is named as
// theirs.
func weakness(patterns []*match.Match, userWords []string) string {
	var worst *match.Match
	for _, m := range patterns {
		if m.Pattern != "bruteforce" && (worst == nil || len(m.Token) > len(worst.Token)) {
			worst = m // tokens have one byte per character
		}
	}
	if worst == nil {
		return "error.password_weak" // too short for what it is made of
	}
	switch worst.Pattern {
	case "dictionary":
		if slices.Contains(userWords, worst.MatchedWord) {
			return "error.password_personal"
		}
		switch worst.DictionaryName {
		case "passwords":
			// zxcvbn's rule: the whole password, or a part common enough
			// (10,000 guesses or fewer) to call it similar to a common one.
			if len(patterns) == 1 || worst.Guesses <= 1e4 {
				return "error.password_common"
			}
			return "error.password_words"
		case "user_inputs":
			return "error.password_personal"
		}
		return "error.password_words"
	case "spatial":
		return "error.password_keyboard"
	case "repeat":
		return "error.password_repeat"
	case "sequence":
		return "error.password_sequence"
	case "regex", "date":
		return "error.password_date"
	}
	return "error.password_weak"
}

// isCommon reports a password on the breached-password list (ASVS 6.2.4
// and 6.2.12), also with decoration around it ("Password1!", "!qwerty2024").
func isCommon(s string) bool {
	if isBreached(s) {
		return true
	}
	core := strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if utf8.RuneCountInString(core) >= 4 && isBreached(core) {
		return true
	}
	core = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
	return utf8.RuneCountInString(core) >= 4 && isBreached(core)
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
