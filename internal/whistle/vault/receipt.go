package vault

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// receiptDigits is the length of a receipt: 24 decimal digits carry
// log2(10^24) = 79.7 bits.
const receiptDigits = 24

// maxReceiptInput bounds what NormalizeReceipt looks at: 24 digits with a
// generous number of separators.
const maxReceiptInput = 256

// NewReceipt returns a fresh receipt of 24 uniformly random decimal digits
// from crypto/rand, in its display form: six groups of four separated by
// spaces ("1234 5678 9012 3456 7890 1234").
func NewReceipt() (string, error) {
	digits := make([]byte, 0, receiptDigits)
	var buf [32]byte
	for len(digits) < receiptDigits {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("vault: new receipt: %w", err)
		}
		for _, c := range buf {
			// Rejection sampling: 250 is the largest multiple of 10 below
			// 256, so every digit is equally likely.
			if c >= 250 || len(digits) == receiptDigits {
				continue
			}
			digits = append(digits, '0'+c%10)
		}
	}
	return displayReceipt(string(digits)), nil
}

// displayReceipt groups 24 digits by four, separated by spaces.
func displayReceipt(digits string) string {
	var b strings.Builder
	for i := 0; i < len(digits); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(digits[i:min(i+4, len(digits))])
	}
	return b.String()
}

// NormalizeReceipt returns the 24 digits of a receipt without separators.
// It accepts ASCII digits separated by any number of spaces, dashes, dots
// and no-break spaces (U+00A0), anywhere; anything else (letters, other
// Unicode digits, invalid UTF-8) or a count other than 24 digits is
// ErrReceipt.
func NormalizeReceipt(s string) (string, error) {
	if len(s) > maxReceiptInput || !utf8.ValidString(s) {
		return "", ErrReceipt
	}
	digits := make([]byte, 0, receiptDigits)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if len(digits) == receiptDigits {
				return "", ErrReceipt
			}
			digits = append(digits, byte(r))
		case r == ' ' || r == '-' || r == '.' || r == '\u00a0':
		default:
			return "", ErrReceipt
		}
	}
	if len(digits) != receiptDigits {
		return "", ErrReceipt
	}
	return string(digits), nil
}

// canonicalReceipt returns the normalised receipt when s is a receipt in
// any accepted form, and s itself otherwise, so that the display form and
// the normalised form of one receipt always derive the same values.
func canonicalReceipt(s string) string {
	if n, err := NormalizeReceipt(s); err == nil {
		return n
	}
	return s
}

// ReceiptLookup returns the 32-byte lookup id of a receipt in a company:
// HMAC-SHA256(lookupKey, company || 0 || normalised receipt). The receipt
// may be given in display or normalised form.
func ReceiptLookup(lookupKey []byte, company, receipt string) []byte {
	m := hmac.New(sha256.New, lookupKey)
	m.Write([]byte(company))
	m.Write([]byte{0})
	m.Write([]byte(canonicalReceipt(receipt)))
	return m.Sum(nil)
}

// ReceiptKey derives the 32-byte key a receipt (and the reporter's
// optional passphrase) opens: Argon2id with Params over
//
//	password = receipt || 0 || passphrase
//	salt     = salt || HMAC-SHA256(pepper, company || 0 || receipt)[:16]
//
// The pepper is a server secret kept out of the database, so a stolen
// database alone cannot test receipts. The passphrase is taken byte for
// byte (not trimmed, not normalised). The receipt may be given in display
// or normalised form. It waits for a derivation slot like Derive.
func ReceiptKey(ctx context.Context, pepper []byte, company, receipt, passphrase string, salt []byte) (*[32]byte, error) {
	receipt = canonicalReceipt(receipt)
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(company))
	m.Write([]byte{0})
	m.Write([]byte(receipt))
	fullSalt := append(append(make([]byte, 0, len(salt)+16), salt...), m.Sum(nil)[:16]...)

	password := make([]byte, 0, len(receipt)+1+len(passphrase))
	password = append(password, receipt...)
	password = append(password, 0)
	password = append(password, passphrase...)
	defer clear(password)
	return Derive(ctx, password, fullSalt)
}

// NewSalt returns a salt that also records the Argon2id parameters of
// this moment: 'A', time (4 bytes), memory in KiB (4), threads (1), then
// 16 random bytes. Derive reads the parameters back from it, so a key
// sealed today still opens after Params are raised.
func NewSalt() []byte {
	p := Params
	s := make([]byte, saltHeader+16)
	s[0] = 'A'
	binary.BigEndian.PutUint32(s[1:5], p.Time)
	binary.BigEndian.PutUint32(s[5:9], p.MemoryKiB)
	s[9] = p.Threads
	if _, err := rand.Read(s[saltHeader:]); err != nil {
		// crypto/rand.Read does not fail on supported platforms (Go 1.24+).
		panic("vault: crypto/rand: " + err.Error())
	}
	return s
}

// saltHeader is the length of the parameters at the start of a salt.
const saltHeader = 10

// paramsOf returns the parameters a salt records, or Params for a salt
// without them. Parameters out of bounds (a damaged or hostile row) are
// refused rather than run.
func paramsOf(salt []byte) (ArgonParams, error) {
	if len(salt) < saltHeader+16 || salt[0] != 'A' {
		return Params, nil
	}
	p := ArgonParams{Time: binary.BigEndian.Uint32(salt[1:5]), MemoryKiB: binary.BigEndian.Uint32(salt[5:9]), Threads: salt[9]}
	if p.Time < 1 || p.Time > 10 || p.MemoryKiB < 8 || p.MemoryKiB > 256<<10 || p.Threads < 1 || p.Threads > 16 {
		return ArgonParams{}, ErrOpen
	}
	return p, nil
}
