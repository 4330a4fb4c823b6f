package id

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		v := New()
		u, err := uuid.Parse(v)
		if err != nil {
			t.Fatalf("New() = %q: %v", v, err)
		}
		if u.Version() != 7 {
			t.Fatalf("New() = %q, version %d, want 7", v, u.Version())
		}
		if v != strings.ToLower(v) {
			t.Fatalf("New() = %q, want lower case", v)
		}
		if seen[v] {
			t.Fatalf("New() returned %q twice", v)
		}
		seen[v] = true
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 of "abc" (FIPS 180-2 test vector), in lower-case hex.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashToken("abc"); got != want {
		t.Errorf("HashToken(abc) = %q, want %q", got, want)
	}
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		token, hash := NewToken()
		if len(token) != 43 {
			t.Fatalf("token %q has %d characters, want 43", token, len(token))
		}
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) != 32 {
			t.Fatalf("token %q decodes to %d bytes (err %v), want 32 bytes of base64url", token, len(b), err)
		}
		if hash != HashToken(token) {
			t.Fatalf("hash = %q, want HashToken(token) = %q", hash, HashToken(token))
		}
		if seen[token] {
			t.Fatalf("token %q returned twice", token)
		}
		seen[token] = true
	}
}
