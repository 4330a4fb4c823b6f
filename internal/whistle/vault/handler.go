package vault

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// recoveryBytes is the entropy of a recovery key: 160 bits, which base32
// writes as 32 characters, eight groups of four.
const recoveryBytes = 20

// The Binding purposes of a handler's sealed identity.
const (
	purposeHandlerPassword = "handler-password"
	purposeHandlerRecovery = "handler-recovery"
)

// HandlerKey is a case handler's key pair as stored: the public recipient
// reports are sealed to, and the identity sealed twice, once under a key
// derived from the handler's password and once under a recovery key shown
// to the handler once.
type HandlerKey struct {
	// Public is the age recipient, "age1...".
	Public string
	// PasswordSalt is the Argon2id salt of the password key.
	PasswordSalt []byte
	// SealedByPassword is SealWithKey(Derive(password, PasswordSalt),
	// Binding{company, "", "handler-password", userID}, identity).
	SealedByPassword []byte
	// SealedByRecovery is SealWithKey(HKDF(recovery key),
	// Binding{company, "", "handler-recovery", userID}, identity).
	SealedByRecovery []byte
}

// NewHandlerKey makes a key pair, seals it by the password and by a fresh
// recovery key, and returns the stored form, the unlocked identity and the
// recovery key (to be shown once: "ABCD-EFGH-...", eight groups of four).
func NewHandlerKey(ctx context.Context, company, userID, password string) (*HandlerKey, *Identity, string, error) {
	id, err := NewIdentity()
	if err != nil {
		return nil, nil, "", err
	}
	k := &HandlerKey{Public: id.Recipient()}
	if err := k.ResealPassword(ctx, company, userID, id, password); err != nil {
		return nil, nil, "", err
	}
	recovery, err := NewRecoveryKey(company, userID, id, k)
	if err != nil {
		return nil, nil, "", err
	}
	return k, id, recovery, nil
}

// UnlockWithPassword opens the identity with the handler's password. A
// wrong password (or company, or user) is ErrOpen; a cancelled ctx while
// waiting for a derivation slot is ctx's error.
func (k *HandlerKey) UnlockWithPassword(ctx context.Context, company, userID, password string) (*Identity, error) {
	if len(k.PasswordSalt) < minSalt {
		return nil, ErrOpen
	}
	key, err := Derive(ctx, []byte(password), k.PasswordSalt)
	if err != nil {
		return nil, err
	}
	defer clear(key[:])
	return k.unlock(key, Binding{Company: company, Purpose: purposeHandlerPassword, Item: userID}, k.SealedByPassword)
}

// UnlockWithRecovery opens the identity with the recovery key, written in
// any case, with or without spaces, dashes or dots. A wrong or malformed
// key is ErrOpen.
func (k *HandlerKey) UnlockWithRecovery(company, userID, recovery string) (*Identity, error) {
	raw, err := parseRecovery(recovery)
	if err != nil {
		return nil, ErrOpen
	}
	key, err := recoveryKey(raw)
	if err != nil {
		return nil, err
	}
	defer clear(key[:])
	return k.unlock(key, Binding{Company: company, Purpose: purposeHandlerRecovery, Item: userID}, k.SealedByRecovery)
}

// unlock opens a sealed identity and checks it is the key pair of Public,
// so a seal swapped in from another handler does not pass.
func (k *HandlerKey) unlock(key *[32]byte, b Binding, sealed []byte) (*Identity, error) {
	plain, err := OpenWithKey(key, b, sealed)
	if err != nil {
		return nil, ErrOpen
	}
	id, err := identityFrom(plain)
	if err != nil {
		return nil, ErrOpen
	}
	if id.Recipient() != k.Public {
		return nil, ErrOpen
	}
	return id, nil
}

// ResealPassword seals the identity under a new password, with a new salt
// (a password change or a reset through the recovery key). id must be the
// key pair of k.Public.
func (k *HandlerKey) ResealPassword(ctx context.Context, company, userID string, id *Identity, password string) error {
	if id == nil || id.id == nil || id.Recipient() != k.Public {
		return errors.New("vault: reseal password: identity is not this handler key's")
	}
	salt := NewSalt()
	key, err := Derive(ctx, []byte(password), salt)
	if err != nil {
		return err
	}
	defer clear(key[:])
	sealed, err := SealWithKey(key, Binding{Company: company, Purpose: purposeHandlerPassword, Item: userID}, []byte(id.String()))
	if err != nil {
		return err
	}
	k.PasswordSalt, k.SealedByPassword = salt, sealed
	return nil
}

// NewRecoveryKey seals the identity under a fresh recovery key, replaces
// k.SealedByRecovery (the old recovery key stops working once the caller
// stores k) and returns the new key. id must be the key pair of k.Public.
func NewRecoveryKey(company, userID string, id *Identity, k *HandlerKey) (string, error) {
	if k == nil || id == nil || id.id == nil || id.Recipient() != k.Public {
		return "", errors.New("vault: new recovery key: identity is not this handler key's")
	}
	raw := make([]byte, recoveryBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("vault: new recovery key: %w", err)
	}
	key, err := recoveryKey(raw)
	if err != nil {
		return "", err
	}
	defer clear(key[:])
	sealed, err := SealWithKey(key, Binding{Company: company, Purpose: purposeHandlerRecovery, Item: userID}, []byte(id.String()))
	if err != nil {
		return "", err
	}
	k.SealedByRecovery = sealed
	return formatRecovery(raw), nil
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// formatRecovery writes raw in base32, in dash-separated groups of four.
func formatRecovery(raw []byte) string {
	s := recoveryEncoding.EncodeToString(raw)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// parseRecovery reads a recovery key typed by a person: case and the
// separators (spaces, dashes, dots, no-break spaces) do not matter.
func parseRecovery(s string) ([]byte, error) {
	if len(s) > 256 {
		return nil, ErrOpen
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '\u00a0', '\t', '\n', '\r':
			return -1
		}
		return r
	}, strings.ToUpper(s))
	raw, err := recoveryEncoding.DecodeString(s)
	if err != nil || len(raw) != recoveryBytes {
		return nil, ErrOpen
	}
	return raw, nil
}

// recoveryKey expands a recovery key into a sealing key. The recovery key
// has 160 random bits, so HKDF suffices: there is nothing to stretch.
func recoveryKey(raw []byte) (*[32]byte, error) {
	k, err := hkdf.Key(sha256.New, raw, nil, "kandidat-vault/1 handler-recovery", 32)
	if err != nil {
		return nil, fmt.Errorf("vault: recovery key: %w", err)
	}
	var key [32]byte
	copy(key[:], k)
	clear(k)
	return &key, nil
}
