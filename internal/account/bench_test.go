package account_test

import (
	"context"
	"testing"

	"github.com/kandidat/kandidat/internal/account"
)

// BenchmarkHashArgon2idDefault is one hash with the default parameters
// (19 MiB, t=2, p=1): the cost of every sign-in.
func BenchmarkHashArgon2idDefault(b *testing.B) {
	h := account.NewHasher(account.DefaultArgon2, 1)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct horse 1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPBKDF2Teamio is one verification of an imported
// PBKDF2-HMAC-SHA256 hash with Teamio's 1,000,000 iterations.
func BenchmarkVerifyPBKDF2Teamio(b *testing.B) {
	h := account.NewHasher(account.DefaultArgon2, 1)
	hash := importedHashes[2].hash
	for b.Loop() {
		if ok, _, err := h.Verify(context.Background(), importedPassword, hash); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
