package vault

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// minSessionKey is the shortest server-side session key accepted.
const minSessionKey = 32

// maxSessionText bounds the text OpenSession decodes (a cookie is at most
// 4 KiB anyway).
const maxSessionText = 8192

// SealSession seals a short-lived secret for a cookie (a reporter's
// unlocked report key, a handler's unlocked identity) under a server-side
// key of at least 32 bytes, bound to b, with its expiry inside the
// encryption. The result is unpadded base64url.
//
// The expiry is kept to the second: the envelope lives only in the
// client's cookie and the server's memory, never in a store.
func SealSession(key []byte, b Binding, payload []byte, expires time.Time) (string, error) {
	k, err := sessionKey(key)
	if err != nil {
		return "", err
	}
	defer clear(k[:])
	plain := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint64(plain, uint64(expires.Unix()))
	plain = append(plain, payload...)
	defer clear(plain)
	sealed, err := SealWithKey(k, b, plain)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenSession opens what SealSession sealed. An envelope that is
// tampered, sealed under another key or binding, or expired at now
// (now >= expires) is ErrOpen.
func OpenSession(key []byte, b Binding, s string, now time.Time) ([]byte, error) {
	if len(s) > maxSessionText {
		return nil, ErrOpen
	}
	k, err := sessionKey(key)
	if err != nil {
		return nil, ErrOpen
	}
	defer clear(k[:])
	sealed, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrOpen
	}
	plain, err := OpenWithKey(k, b, sealed)
	if err != nil || len(plain) < 8 {
		return nil, ErrOpen
	}
	expires := int64(binary.BigEndian.Uint64(plain))
	if now.Unix() >= expires {
		clear(plain)
		return nil, ErrOpen
	}
	return plain[8:], nil
}

// sessionKey derives the envelope key from the server's session key, so
// the same server secret used elsewhere never keys this AEAD directly.
func sessionKey(key []byte) (*[32]byte, error) {
	if len(key) < minSessionKey {
		return nil, fmt.Errorf("vault: session key of %d bytes (at least %d)", len(key), minSessionKey)
	}
	k, err := hkdf.Key(sha256.New, key, nil, "kandidat-vault/1 session", 32)
	if err != nil {
		return nil, fmt.Errorf("vault: session key: %w", err)
	}
	var out [32]byte
	copy(out[:], k)
	clear(k)
	return &out, nil
}
