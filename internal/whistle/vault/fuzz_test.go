package vault

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzNormalizeReceipt(f *testing.F) {
	for _, s := range []string{
		"1234 5678 9012 3456 7890 1234",
		"123456789012345678901234",
		"1234-5678.9012\u00a03456 7890 1234",
		"١٢٣٤ 5678 9012 3456 7890 1234",
		"", "-", "12345678901234567890123", "1234567890123456789012345",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeReceipt(s)
		if err != nil {
			if err != ErrReceipt || got != "" {
				t.Fatalf("NormalizeReceipt(%q) = %q, %v; want \"\", ErrReceipt", s, got, err)
			}
			return
		}
		if len(got) != receiptDigits || strings.Trim(got, "0123456789") != "" {
			t.Fatalf("NormalizeReceipt(%q) = %q, want 24 ASCII digits", s, got)
		}
		// Only the digits of the input survive, in order.
		var digits []byte
		for _, r := range s {
			if r >= '0' && r <= '9' {
				digits = append(digits, byte(r))
			} else if r != ' ' && r != '-' && r != '.' && r != '\u00a0' {
				t.Fatalf("NormalizeReceipt(%q) accepted %q", s, r)
			}
		}
		if string(digits) != got || !utf8.ValidString(s) {
			t.Fatalf("NormalizeReceipt(%q) = %q, want %q", s, got, digits)
		}
		// Idempotent, and the display form normalises back.
		if again, err := NormalizeReceipt(displayReceipt(got)); err != nil || again != got {
			t.Fatalf("display form of %q normalises to %q, %v", got, again, err)
		}
	})
}

func FuzzCombine(f *testing.F) {
	shares, err := Split([]byte("seed secret"), 4, 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shares[0], shares[1])
	f.Add(strings.ToLower(shares[2]), shares[3]+"\n")
	f.Add("KSH1-2-1-AAAA-AAAA", "KSH1-10-10--")
	f.Add("", "KSH1-2-1-"+strings.Repeat("A", 300)+"-ABCD")
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, s := range []string{a, b} {
			sh, err := ParseShare(s)
			if err != nil {
				if err != ErrShares {
					t.Fatalf("ParseShare(%q) = %v, want ErrShares", s, err)
				}
				continue
			}
			// A share that parses prints to a form that parses to itself.
			back, err := ParseShare(sh.String())
			if err != nil || back.K != sh.K || back.Index != sh.Index || back.SplitID != sh.SplitID || !bytes.Equal(back.Data, sh.Data) {
				t.Fatalf("ParseShare(%q).String() does not round-trip: %v", s, err)
			}
		}
		got, err := Combine([]string{a, b})
		if err != nil && err != ErrShares {
			t.Fatalf("Combine = %v, want nil or ErrShares", err)
		}
		if err == nil && len(got) == 0 {
			t.Fatal("Combine succeeded with an empty secret")
		}
	})
}

func FuzzOpenBytes(f *testing.F) {
	id := newID(f)
	ct, err := SealBytes(id.Recipient(), testBinding, []byte("seed"))
	if err != nil {
		f.Fatal(err)
	}
	var key [32]byte
	keyed, err := SealWithKey(&key, testBinding, []byte("seed"))
	if err != nil {
		f.Fatal(err)
	}
	sessionKey := bytes.Repeat([]byte{1}, 32)
	now := time.Unix(1_800_000_000, 0)
	session, err := SealSession(sessionKey, testBinding, []byte("seed"), now.Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct)
	f.Add(ct[:len(ct)/2])
	f.Add(keyed)
	f.Add([]byte(session))
	f.Add([]byte("age-encryption.org/v1\n-> X25519 \n---"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Arbitrary bytes never panic and never open, unless they are a
		// seed ciphertext itself (which must then give the seed).
		check := func(name string, got []byte, err error) {
			if err == nil {
				if string(got) != "seed" {
					t.Fatalf("%s opened arbitrary bytes to %q", name, got)
				}
				return
			}
			if err != ErrOpen {
				t.Fatalf("%s = %v, want ErrOpen", name, err)
			}
		}
		got, err := OpenBytes(id, testBinding, data)
		check("OpenBytes", got, err)
		got, err = OpenWithKey(&key, testBinding, data)
		check("OpenWithKey", got, err)
		got, err = OpenSession(sessionKey, testBinding, string(data), now)
		check("OpenSession", got, err)
		if _, err := OpenIdentity(id, testBinding, data); err != ErrOpen {
			t.Fatalf("OpenIdentity = %v, want ErrOpen", err)
		}
	})
}
