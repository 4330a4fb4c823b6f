package account_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/account"
)

func TestCheckPassword(t *testing.T) {
	// "e" + COMBINING ACUTE ACCENT composes to "é" under NFC.
	const eAcuteNFD = "e\u0301"
	tests := []struct {
		name     string
		password string
		login    string
		want     string
	}{
		{"empty", "", "", "error.password_short"},
		{"seven characters", "abcdef1", "", "error.password_short"},
		{"exactly 8", "abcdefg1", "", ""},
		{"exactly 128", strings.Repeat("a", 127) + "1", "", ""},
		{"129 runes", strings.Repeat("a", 128) + "1", "", "error.password_long"},
		{"128 multi-byte runes", strings.Repeat("ø", 127) + "1", "", ""},
		{"129 multi-byte runes", strings.Repeat("ø", 128) + "1", "", "error.password_long"},
		{"only letters", "abcdefghij", "", "error.password_classes"},
		{"only non-ASCII letters", "åäöüßøæœ", "", "error.password_classes"},
		{"only digits", "1234567890", "", "error.password_classes"},
		{"only other characters", "!@#$%^&*()", "", "error.password_classes"},
		{"only spaces", "          ", "", "error.password_classes"},
		{"letters and digits", "abcdefg1", "", ""},
		{"letters and others", "kwfhzjq!", "", ""},
		{"digits and others", "8203917!", "", ""},
		{"letters and space", "correct horse", "", ""},
		{"all three classes", "abc123!?", "", ""},
		{"contains login", "xxalice123", "alice", "error.password_contains_login"},
		{"contains login in other case", "xxALICE123", "alice", "error.password_contains_login"},
		{"contains upper-case login", "xxalice123", "Alice", "error.password_contains_login"},
		{"is the login", "alice.smith1", "alice.smith1", "error.password_contains_login"},
		{"contains part of login only", "xxalic123", "alice", ""},
		{"two-character login not checked", "xxal123456", "al", ""},
		{"empty login not checked", "abcdefg1", "", ""},
		{"invalid UTF-8", "abcdefg1\xff", "", "error.password_invalid"},
		{"truncated UTF-8 sequence", "abcdefg1\xc3", "", "error.password_invalid"},
		{"NUL", "abcdefg1\x00", "", "error.password_invalid"},
		{"tab", "abcd\tefg1", "", "error.password_invalid"},
		{"newline", "abcdefg1\n", "", "error.password_invalid"},
		{"DEL", "abcdefg1\x7f", "", "error.password_invalid"},
		{"C1 control", "abcdefg1\u0085", "", "error.password_invalid"},
		{"NFD 9 code points, NFC 8 characters", eAcuteNFD + "bcdef12", "", ""},
		{"NFD 8 code points, NFC 7 characters", eAcuteNFD + "bcde12", "", "error.password_short"},
		{"NFD 129 code points, NFC 128 characters", eAcuteNFD + strings.Repeat("a", 126) + "1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := account.CheckPassword(tt.password, tt.login); got != tt.want {
				t.Errorf("CheckPassword(%q, %q) = %q, want %q", tt.password, tt.login, got, tt.want)
			}
		})
	}
}

// TestCheckPasswordNormalisationFixture guards the normalisation rows above:
// they mean something only if the strings are what their names say.
func TestCheckPasswordNormalisationFixture(t *testing.T) {
	p := "e\u0301" + "bcdef12"
	if got := utf8.RuneCountInString(p); got != 9 {
		t.Errorf("code points = %d, want 9", got)
	}
	if got := utf8.RuneCountInString(norm.NFC.String(p)); got != 8 {
		t.Errorf("NFC characters = %d, want 8", got)
	}
}
