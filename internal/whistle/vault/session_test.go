package vault

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestSession(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b := Binding{Company: "c-1", Report: "r-1", Purpose: "reporter-session"}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	expires := now.Add(30 * time.Minute)
	payload := []byte("AGE-SECRET-KEY-1 stand-in")
	s, err := SealSession(key, b, payload, expires)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(s, "+/=") {
		t.Errorf("envelope %q is not unpadded base64url", s)
	}
	if strings.Contains(s, base64.RawURLEncoding.EncodeToString(payload[:12])) {
		t.Error("envelope carries the payload in clear")
	}

	got, err := OpenSession(key, b, s, now)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("OpenSession = %q, %v; want the payload", got, err)
	}
	if got, err := OpenSession(key, b, s, expires.Add(-time.Second)); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("one second before expiry: got %q, %v", got, err)
	}

	for name, at := range map[string]time.Time{
		"at expiry":    expires,
		"after expiry": expires.Add(time.Hour),
	} {
		if _, err := OpenSession(key, b, s, at); err != ErrOpen {
			t.Errorf("%s: got %v, want ErrOpen", name, err)
		}
	}
	for name, vb := range bindingVariants(b) {
		if _, err := OpenSession(key, vb, s, now); err != ErrOpen {
			t.Errorf("binding %s: got %v, want ErrOpen", name, err)
		}
	}
	other := bytes.Clone(key)
	other[31] ^= 1
	if _, err := OpenSession(other, b, s, now); err != ErrOpen {
		t.Errorf("other key: got %v, want ErrOpen", err)
	}
	if _, err := OpenSession(key[:16], b, s, now); err != ErrOpen {
		t.Errorf("short key: got %v, want ErrOpen", err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(s)
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x10
		if _, err := OpenSession(key, b, base64.RawURLEncoding.EncodeToString(bad), now); err != ErrOpen {
			t.Fatalf("byte %d flipped: got %v, want ErrOpen", i, err)
		}
	}
	for _, bad := range []string{"", "!!!", s + "=", s[:len(s)-2], strings.Repeat("A", maxSessionText+1)} {
		if _, err := OpenSession(key, b, bad, now); err != ErrOpen {
			t.Errorf("OpenSession(%.20q) = %v, want ErrOpen", bad, err)
		}
	}
	if _, err := SealSession(key[:31], b, payload, expires); err == nil {
		t.Error("SealSession with a 31-byte key succeeded")
	}
	// An already expired envelope can be sealed but never opened.
	past, err := SealSession(key, b, payload, now.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSession(key, b, past, now); err != ErrOpen {
		t.Errorf("expired at sealing: got %v, want ErrOpen", err)
	}
}
