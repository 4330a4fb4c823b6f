package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/fault"
)

// varied returns n characters from alphabet in an order without patterns
// (a linear congruential walk), for passwords at the length limits that the
// strength estimate should find strong.
func varied(alphabet string, n int) string {
	rs := []rune(alphabet)
	out := make([]rune, n)
	x := uint32(12345)
	for i := range out {
		x = x*1103515245 + 12345
		out[i] = rs[(x>>16)%uint32(len(rs))]
	}
	return string(out)
}

const latin = "abcdefghijkmnpqrstuvwxyz"

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
		{"exactly 8", "kwfhzjq1", "", ""},
		{"exactly 128", varied(latin, 127) + "1", "", ""},
		{"129 runes", varied(latin, 128) + "1", "", "error.password_long"},
		{"128 multi-byte runes", varied("øæåäöüßéèœłśžčř", 127) + "1", "", ""},
		{"129 multi-byte runes", varied("øæåäöüßéèœłśžčř", 128) + "1", "", "error.password_long"},
		{"only letters", "abcdefghij", "", "error.password_classes"},
		{"only non-ASCII letters", "åäöüßøæœ", "", "error.password_classes"},
		{"only digits", "1234567890", "", "error.password_classes"},
		{"only other characters", "!@#$%^&*()", "", "error.password_classes"},
		{"only spaces", "          ", "", "error.password_classes"},
		{"letters and digits", "kwfhzjq1", "", ""},
		{"letters and others", "kwfhzjq!", "", ""},
		{"digits and others", "52-8391-0647", "", ""},
		{"letters and space", "correct horse", "", ""},
		{"all three classes", "kq7!zv9?", "", ""},
		{"contains login", "xxalice123", "alice", "error.password_contains_login"},
		{"contains login in other case", "xxALICE123", "alice", "error.password_contains_login"},
		{"contains upper-case login", "xxalice123", "Alice", "error.password_contains_login"},
		{"is the login", "alice.smith1", "alice.smith1", "error.password_contains_login"},
		{"contains part of login only", "xxalic9f3k!q", "alice", ""},
		{"two-character login not checked", "xxal9f3k!q", "al", ""},
		{"empty login not checked", "kwfhzjq1", "", ""},
		{"invalid UTF-8", "abcdefg1\xff", "", "error.password_invalid"},
		{"truncated UTF-8 sequence", "abcdefg1\xc3", "", "error.password_invalid"},
		{"NUL", "abcdefg1\x00", "", "error.password_invalid"},
		{"tab", "abcd\tefg1", "", "error.password_invalid"},
		{"newline", "abcdefg1\n", "", "error.password_invalid"},
		{"DEL", "abcdefg1\x7f", "", "error.password_invalid"},
		{"C1 control", "abcdefg1\u0085", "", "error.password_invalid"},
		{"NFD 9 code points, NFC 8 characters", eAcuteNFD + "kwfhzj1", "", ""},
		{"NFD 8 code points, NFC 7 characters", eAcuteNFD + "kwfhz1", "", "error.password_short"},
		{"NFD 129 code points, NFC 128 characters", eAcuteNFD + varied(latin, 126) + "1", "", ""},
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
	p := "e\u0301" + "kwfhzj1"
	if got := utf8.RuneCountInString(p); got != 9 {
		t.Errorf("code points = %d, want 9", got)
	}
	if got := utf8.RuneCountInString(norm.NFC.String(p)); got != 8 {
		t.Errorf("NFC characters = %d, want 8", got)
	}
}

// TestCheckPasswordStrength: passwords that pass the length and composition
// rules but are easy to guess are refused, each with the message that says
// what to change.
func TestCheckPasswordStrength(t *testing.T) {
	c := account.PasswordContext{Login: "alice", Email: "alice.smith@acme.example", Company: "Acme Industries", Name: "Margareta Lindqvist"}
	tests := []struct {
		name     string
		profile  account.Profile
		password string
		want     string
	}{
		// Accepted before the strength estimate.
		{"sequence and digits", account.Standard, "abcdef12", "error.password_sequence"},
		{"breached, digits first", account.Standard, "12345678a", "error.password_common"},
		{"breached digits and a sequence", account.Standard, "123456ab", "error.password_common"},
		{"repeat and a digit", account.Standard, "qqqqqqq9", "error.password_repeat"},
		{"sequence and a digit", account.Standard, "bcdefgh2", "error.password_sequence"},
		{"longer sequence and a digit", account.Standard, "abcdefgh1", "error.password_sequence"},
		{"breached with decoration", account.Standard, "bluebird19", "error.password_common"},
		{"breached in l33t", account.Standard, "P@ssw0rd99x", "error.password_common"},
		{"keyboard walk", account.Standard, "zxcvbnm,./1", "error.password_keyboard"},
		{"date without separators", account.Standard, "19870512ab", "error.password_date"},
		{"date with separators", account.Standard, "05.12.1987xy", "error.password_date"},
		{"digits read as a date", account.Standard, "8203917!", "error.password_date"},
		{"surname of the user", account.Standard, "lindqvist1987!", "error.password_personal"},
		{"first name of the user", account.Standard, "margareta.l!7", "error.password_personal"},
		{"surname in other case", account.Standard, "Lindqvist-77x", "error.password_personal"},
		{"a name and decoration", account.Strict, "jennifer-lopez!", "error.password_words"},
		{"two common passwords", account.Strict, "baseball-football", "error.password_common"},
		{"a random run twice", account.Strict, "kq7!zv9?kq7!zv9?x", "error.password_repeat"},
		// Strong enough.
		{"eight random characters", account.Standard, "kwfhzjq1", ""},
		{"words and a digit", account.Standard, "winter-sun-19", ""},
		{"two words", account.Standard, "correct horse", ""},
		{"three words", account.Strict, "correct horse battery", ""},
		{"four words", account.Strict, "correcthorsebatterystaple", ""},
		{"three words and a year", account.Strict, "the-simpsons-2007", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := account.CheckPasswordPolicy(tt.profile, tt.password, c); got != tt.want {
				t.Errorf("%s %q: got %q, want %q", tt.profile, tt.password, got, tt.want)
			}
		})
	}
}

// TestPasswordOfTheUsersName: creating a user and changing a password both
// give the strength estimate the user's name, not only the login.
func TestPasswordOfTheUsersName(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	in := account.CreateUserInput{Login: "mali", DisplayName: "Margareta Lindqvist", Password: "lindqvist1987!"}
	_, err := e.svc.CreateUser(ctx, access.Operator(c.ID), in)
	var ve *fault.Invalid
	if !errors.As(err, &ve) || ve.Fields["password"] != "error.password_personal" {
		t.Fatalf("create with the surname: %v, want error.password_personal", err)
	}
	in.Password = goodPassword
	u, err := e.svc.CreateUser(ctx, access.Operator(c.ID), in)
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.ChangePassword(ctx, access.Actor{TenantID: c.ID, UserID: u.ID}, goodPassword, "Margareta-77x", account.Client{})
	if !errors.As(err, &ve) || ve.Fields["new_password"] != "error.password_personal" {
		t.Fatalf("change to the first name: %v, want error.password_personal", err)
	}
}

// TestPasswordMessagesTranslated: every message key the policy returns has a
// text in every language.
func TestPasswordMessagesTranslated(t *testing.T) {
	keys := []string{"error.password_short", "error.password_short_strict", "error.password_long", "error.password_invalid",
		"error.password_classes", "error.password_trivial", "error.password_contains_login", "error.password_contains_company",
		"error.password_common", "error.password_personal", "error.password_keyboard", "error.password_repeat",
		"error.password_sequence", "error.password_date", "error.password_words", "error.password_weak"}
	for _, lang := range []string{"en", "sv", "nb", "sk", "cs"} {
		b, err := os.ReadFile("../i18n/locales/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var catalogue map[string]any // messages that count things are objects of plural forms
		if err := json.Unmarshal(b, &catalogue); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if text, _ := catalogue[k].(string); strings.TrimSpace(text) == "" {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}

// FuzzCheckPassword: the policy never panics, answers the same twice, refuses
// invalid UTF-8 and returns only message keys it is known to return.
func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"", "abcdef12", "correct horse 1", "aaaaaaa1", "zxcvbnm,./1", "05.12.1987xy",
		"P@ssw0rd99x", "\xff\xfe", "é" + strings.Repeat("ab", 70), "1111111111111111", "ÅÄÖåäö123", "qwerty\u0301uiop"} {
		f.Add(s, "alice", "Alice Smith")
	}
	known := map[string]bool{"": true}
	for _, k := range []string{"short", "short_strict", "long", "invalid", "classes", "trivial", "contains_login",
		"contains_company", "common", "personal", "keyboard", "repeat", "sequence", "date", "words", "weak"} {
		known["error.password_"+k] = true
	}
	f.Fuzz(func(t *testing.T, password, login, name string) {
		c := account.PasswordContext{Login: login, Email: login + "@example.com", Company: "Acme Industries", Name: name}
		for _, p := range []account.Profile{account.Standard, account.Strict} {
			got := account.CheckPasswordPolicy(p, password, c)
			if !known[got] {
				t.Fatalf("%s %q: unknown message key %q", p, password, got)
			}
			if again := account.CheckPasswordPolicy(p, password, c); again != got {
				t.Fatalf("%s %q: %q then %q", p, password, got, again)
			}
			if !utf8.ValidString(password) && got != "error.password_invalid" {
				t.Fatalf("%s %q: invalid UTF-8 got %q", p, password, got)
			}
		}
	})
}

// BenchmarkCheckPassword measures the policy with the strength estimate, the
// dictionary already loaded: a typical password, and 128 characters (the
// longest allowed, the estimate's worst case).
func BenchmarkCheckPassword(b *testing.B) {
	c := account.PasswordContext{Login: "alice", Email: "alice.smith@acme.example", Company: "Acme Industries", Name: "Alice Smith"}
	for _, bc := range []struct{ name, password string }{
		{"typical", "winter-sun-19"},
		{"passphrase", "purple-monkey-dishwasher"},
		{"128 characters", varied(latin+"0123456789!?-", 128)},
		{"128 repeated", strings.Repeat("ab1", 42) + "zz"},
	} {
		account.CheckPasswordPolicy(account.Standard, bc.password, c) // load the dictionary
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				account.CheckPasswordPolicy(account.Standard, bc.password, c)
			}
		})
	}
}
