package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// derivedKeyDomain separates keys derived from the master key from any other
// use of it; the purpose follows it in HKDF's info.
const derivedKeyDomain = "kandidat/derived-key/v1\x00"

// DerivedKeySize is the length of a key returned by DeriveKey (256 bits).
const DerivedKeySize = 32

// DeriveKey returns a secret key for one purpose (for example "device-cookie"),
// derived from the master key with HKDF-SHA256. Different purposes give
// independent keys, and none of them reveals the master key or another
// purpose's key, so a purpose needs no configuration and no stored secret of
// its own: every instance holding the master key derives the same key. A new
// master key (rewrap) gives new derived keys, so whatever was made with the
// old ones (signed cookies, keyed hashes) stops verifying.
func (m *MasterKey) DeriveKey(purpose string) []byte {
	if purpose == "" {
		panic("keys: DeriveKey needs a purpose")
	}
	k, err := hkdf.Key(sha256.New, m.key, nil, derivedKeyDomain+purpose, DerivedKeySize)
	if err != nil {
		panic(err) // only for lengths above 255 hash sizes, not this one
	}
	return k
}
