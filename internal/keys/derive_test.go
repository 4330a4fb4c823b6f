package keys_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"testing"

	"github.com/kandidat/kandidat/internal/keys"
)

func TestDeriveKey(t *testing.T) {
	m := newMaster(t)
	a, b := m.DeriveKey("device-cookie"), m.DeriveKey("device-cookie")
	if len(a) != keys.DerivedKeySize || !bytes.Equal(a, b) {
		t.Fatalf("derived key: %x then %x, want the same %d bytes", a, b, keys.DerivedKeySize)
	}
	if bytes.Equal(a, m.DeriveKey("recovery-codes")) {
		t.Fatal("two purposes derive the same key")
	}
	if bytes.Equal(a, newMaster(t).DeriveKey("device-cookie")) {
		t.Fatal("two master keys derive the same key")
	}
	if bytes.Contains(a, keys.RawMasterKey(m)[:8]) {
		t.Fatal("the derived key holds master key bytes")
	}
	// HKDF-SHA256 as specified (RFC 5869), with the domain in the info.
	want, err := hkdf.Key(sha256.New, keys.RawMasterKey(m), nil, "kandidat/derived-key/v1\x00device-cookie", 32)
	if err != nil || !bytes.Equal(a, want) {
		t.Fatalf("derived key differs from HKDF-SHA256: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an empty purpose was accepted")
		}
	}()
	m.DeriveKey("")
}
