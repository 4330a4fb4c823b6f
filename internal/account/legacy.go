package account

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// Hashes imported from other systems are verified at their own cost and
// replaced by argon2id at the next successful sign-in. Parameters outside
// these bounds are refused on import: too weak to trust, or so costly that a
// stored string could tie up the server.
const (
	minPBKDF2Iterations = 10_000
	maxPBKDF2Iterations = 10_000_000
	minBcryptCost       = 8
	maxBcryptCost       = 15
)

// legacyKind names an imported hash format, or "".
func legacyKind(encoded string) string {
	switch {
	case strings.HasPrefix(encoded, "$pbkdf2-sha256$"):
		return "pbkdf2-phc"
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		return "pbkdf2-django"
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return "bcrypt"
	}
	return ""
}

// CheckImportedHash reports whether encoded is a hash Kandidat can verify
// with acceptable parameters: argon2id, PBKDF2-HMAC-SHA256 (PHC string
// "$pbkdf2-sha256$i=N,l=32$salt$hash" or Django's "pbkdf2_sha256$N$salt$hash")
// or bcrypt.
func CheckImportedHash(encoded string) error {
	if _, _, _, err := parseArgon2(encoded); err == nil {
		return nil
	}
	switch legacyKind(encoded) {
	case "pbkdf2-phc", "pbkdf2-django":
		_, _, _, err := parsePBKDF2(encoded)
		return err
	case "bcrypt":
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil || cost < minBcryptCost || cost > maxBcryptCost {
			return ErrUnsupportedHash
		}
		return nil
	}
	return ErrUnsupportedHash
}

func parsePBKDF2(encoded string) (iterations int, salt, key []byte, err error) {
	var iter, saltPart, keyPart string
	if strings.HasPrefix(encoded, "$pbkdf2-sha256$") {
		parts := strings.Split(encoded, "$")
		if len(parts) != 5 {
			return 0, nil, nil, ErrUnsupportedHash
		}
		for _, kv := range strings.Split(parts[2], ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "i" {
				iter = v
			}
		}
		saltPart, keyPart = parts[3], parts[4]
		if salt, err = decodeB64(saltPart); err != nil {
			return 0, nil, nil, ErrUnsupportedHash
		}
	} else {
		parts := strings.Split(encoded, "$")
		if len(parts) != 4 {
			return 0, nil, nil, ErrUnsupportedHash
		}
		iter, saltPart, keyPart = parts[1], parts[2], parts[3]
		salt = []byte(saltPart) // Django uses the salt string as is
	}
	if iterations, err = strconv.Atoi(iter); err != nil || iterations < minPBKDF2Iterations || iterations > maxPBKDF2Iterations {
		return 0, nil, nil, ErrUnsupportedHash
	}
	if key, err = decodeB64(keyPart); err != nil || len(key) < 16 || len(key) > 64 || len(salt) < 8 || len(salt) > 128 {
		return 0, nil, nil, ErrUnsupportedHash
	}
	return iterations, salt, key, nil
}

// decodeB64 accepts standard base64 with or without padding.
func decodeB64(s string) ([]byte, error) {
	if b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return b, nil
	}
	return nil, errors.New("bad base64")
}

// verifyLegacy checks password against an imported hash. The password is
// tried as typed and, if different, in normal form C: the other system did
// not normalise.
func verifyLegacy(password, encoded string) (bool, error) {
	candidates := []string{password}
	if n := norm.NFC.String(password); n != password {
		candidates = append(candidates, n)
	}
	switch legacyKind(encoded) {
	case "pbkdf2-phc", "pbkdf2-django":
		iterations, salt, want, err := parsePBKDF2(encoded)
		if err != nil {
			return false, err
		}
		for _, c := range candidates {
			got, err := pbkdf2.Key(sha256.New, c, salt, iterations, len(want))
			if err != nil {
				return false, err
			}
			if subtle.ConstantTimeCompare(got, want) == 1 {
				return true, nil
			}
		}
		return false, nil
	case "bcrypt":
		if err := CheckImportedHash(encoded); err != nil {
			return false, err
		}
		for _, c := range candidates {
			if bcrypt.CompareHashAndPassword([]byte(encoded), []byte(c)) == nil {
				return true, nil
			}
		}
		return false, nil
	}
	return false, ErrUnsupportedHash
}
