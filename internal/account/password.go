package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Argon2Params are the argon2id cost parameters of new hashes.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultArgon2 is OWASP's recommended minimum: 19 MiB, two passes, one lane.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes and verifies passwords. At most a bounded number of hashes
// run at once: a flood of sign-ins queues here instead of exhausting CPU and
// memory (each argon2id hash takes MemoryKiB of RAM).
type Hasher struct {
	params Argon2Params
	sem    chan struct{}
	dummy  string
}

// NewHasher returns a Hasher running at most concurrency hashes at a time
// (0 means the number of CPUs).
func NewHasher(p Argon2Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	h := &Hasher{params: p, sem: make(chan struct{}, concurrency)}
	h.dummy = h.encode([]byte("kandidat-dummy-salt"), []byte("x"))
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns a PHC-style argon2id string for password. Passwords are
// hashed in Unicode normal form C, so the same password typed on two
// devices that compose characters differently verifies on both.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return h.encode(salt, []byte(norm.NFC.String(password))), nil
}

func (h *Hasher) encode(salt, password []byte) string {
	p := h.params
	key := argon2.IDKey(password, salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// ErrUnsupportedHash is returned for a stored hash Kandidat cannot verify.
var ErrUnsupportedHash = errors.New("unsupported password hash")

// Verify reports whether password matches encoded, and whether the hash
// should be replaced because its parameters are below the current ones.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	p, salt, want, err := parseArgon2(encoded)
	if err != nil {
		if legacyKind(encoded) != "" {
			// Imported from another system: verify at its cost, then replace.
			ok, err := verifyLegacy(password, encoded)
			return ok, ok, err
		}
		// No hash to check against (an invited user has none until they
		// accept): spend what a check costs, so the answer's timing does
		// not tell such an account from any other.
		h.spend(password)
		return false, false, err
	}
	got := argon2.IDKey([]byte(norm.NFC.String(password)), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	ok = subtle.ConstantTimeCompare(got, want) == 1
	rehash = p.MemoryKiB < h.params.MemoryKiB || p.Iterations < h.params.Iterations
	return ok, rehash, nil
}

// Burn spends the time of one verification without a stored hash, so an
// unknown login costs what a known one costs.
func (h *Hasher) Burn(ctx context.Context, password string) {
	_, _, _ = h.Verify(ctx, password, h.dummy)
}

// spend computes one argon2id hash at the current parameters and throws it
// away; the caller holds a slot.
func (h *Hasher) spend(password string) {
	p := h.params
	_ = argon2.IDKey([]byte(norm.NFC.String(password)), []byte("kandidat-dummy-salt"), p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
}

func parseArgon2(encoded string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, ErrUnsupportedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrUnsupportedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, ErrUnsupportedHash
	}
	// Refuse parameters that would let a stored string exhaust the server.
	if p.MemoryKiB < 8 || p.MemoryKiB > 256*1024 || p.Iterations < 1 || p.Iterations > 10 || p.Parallelism < 1 || p.Parallelism > 8 {
		return p, nil, nil, ErrUnsupportedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, ErrUnsupportedHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrUnsupportedHash
	}
	return p, salt, key, nil
}
