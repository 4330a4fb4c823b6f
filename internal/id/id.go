// Package id makes and checks the identifiers and secret tokens of
// Kandidat. It is a leaf: it imports no other package of the module, so
// that every layer may use it.
package id

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/google/uuid"
)

// New returns a new random, time-ordered identifier (UUIDv7).
func New() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Valid reports whether s can be an id Kandidat made (New): lower-case
// letters, digits and hyphens, at most 64. Anything else is "not found"
// without a query.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// NewToken returns a random 256-bit secret (for a session, a link, a
// device) and its stored form (HashToken).
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the stored form of a secret token: its SHA-256, in
// hex. Only the hash is stored, so a copy of the database opens nothing.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
