package account_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/kandidat/kandidat/internal/account"
)

func TestDefaultArgon2(t *testing.T) {
	want := account.Argon2Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}
	if account.DefaultArgon2 != want {
		t.Errorf("DefaultArgon2 = %+v, want %+v", account.DefaultArgon2, want)
	}
}

// TestHashDefaultParams hashes with the real default cost.
func TestHashDefaultParams(t *testing.T) {
	ctx := context.Background()
	h := account.NewHasher(account.DefaultArgon2, 1)
	enc, err := h.Hash(ctx, goodPassword)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(enc, prefix) {
		t.Fatalf("hash = %q, want prefix %q", enc, prefix)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 {
		t.Fatalf("hash has %d $-parts, want 6", len(parts))
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) != 16 {
		t.Errorf("salt decodes to %d bytes (err %v), want 16", len(salt), err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) != 32 {
		t.Errorf("key decodes to %d bytes (err %v), want 32", len(key), err)
	}
	if strings.Contains(enc, goodPassword) {
		t.Errorf("hash %q contains the password", enc)
	}
	ok, rehash, err := h.Verify(ctx, goodPassword, enc)
	if err != nil || !ok || rehash {
		t.Errorf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	h := account.NewHasher(fastArgon2, 1)
	enc, err := h.Hash(ctx, goodPassword)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"same password", goodPassword, true},
		{"other password", otherPassword, false},
		{"empty", "", false},
		{"other case", strings.ToUpper(goodPassword), false},
		{"trailing space", goodPassword + " ", false},
		{"prefix", goodPassword[:len(goodPassword)-1], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.password, enc)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.want {
				t.Errorf("ok = %v, want %v", ok, tt.want)
			}
			if rehash {
				t.Errorf("rehash = true, want false (same parameters)")
			}
		})
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	ctx := context.Background()
	h := account.NewHasher(fastArgon2, 1)
	seen := map[string]bool{}
	salts := map[string]bool{}
	for range 4 {
		enc, err := h.Hash(ctx, goodPassword)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if seen[enc] {
			t.Fatalf("hash %q produced twice for the same password", enc)
		}
		seen[enc] = true
		salt := strings.Split(enc, "$")[4]
		if salts[salt] {
			t.Fatalf("salt %q used twice", salt)
		}
		salts[salt] = true
		if ok, _, err := h.Verify(ctx, goodPassword, enc); err != nil || !ok {
			t.Errorf("Verify(%q) = %v, %v; want true, nil", enc, ok, err)
		}
	}
}

func TestVerifyRehash(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name            string
		stored, current account.Argon2Params
		want            bool
	}{
		{"equal", account.Argon2Params{64, 1, 1}, account.Argon2Params{64, 1, 1}, false},
		{"lower memory", account.Argon2Params{32, 1, 1}, account.Argon2Params{64, 1, 1}, true},
		{"lower iterations", account.Argon2Params{64, 1, 1}, account.Argon2Params{64, 2, 1}, true},
		{"both lower", account.Argon2Params{32, 1, 1}, account.Argon2Params{64, 2, 1}, true},
		{"higher memory", account.Argon2Params{128, 1, 1}, account.Argon2Params{64, 1, 1}, false},
		{"higher iterations", account.Argon2Params{64, 3, 1}, account.Argon2Params{64, 2, 1}, false},
		{"higher parallelism", account.Argon2Params{64, 1, 2}, account.Argon2Params{64, 1, 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := account.NewHasher(tt.stored, 1).Hash(ctx, goodPassword)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			h := account.NewHasher(tt.current, 1)
			ok, rehash, err := h.Verify(ctx, goodPassword, enc)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want true, nil (a hash verifies under any current parameters)", ok, err)
			}
			if rehash != tt.want {
				t.Errorf("rehash = %v, want %v", rehash, tt.want)
			}
			ok, rehash, err = h.Verify(ctx, otherPassword, enc)
			if err != nil || ok {
				t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
			if rehash != tt.want {
				t.Errorf("rehash(wrong password) = %v, want %v", rehash, tt.want)
			}
		})
	}
}

// encodeArgon2 builds a stored hash by hand, with any salt and key length.
func encodeArgon2(p account.Argon2Params, salt []byte, password string, keyLen uint32) string {
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.MemoryKiB, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// TestVerifyAcceptsLimits checks the edges of what a stored hash may be.
func TestVerifyAcceptsLimits(t *testing.T) {
	ctx := context.Background()
	h := account.NewHasher(fastArgon2, 1)
	salt16 := []byte("0123456789abcdef")
	tests := []struct {
		name    string
		encoded string
	}{
		{"minimum memory", encodeArgon2(account.Argon2Params{8, 1, 1}, salt16, goodPassword, 32)},
		{"maximum iterations", encodeArgon2(account.Argon2Params{8, 10, 1}, salt16, goodPassword, 32)},
		{"maximum parallelism", encodeArgon2(account.Argon2Params{8, 1, 8}, salt16, goodPassword, 32)},
		{"8-byte salt", encodeArgon2(fastArgon2, salt16[:8], goodPassword, 32)},
		{"64-byte salt", encodeArgon2(fastArgon2, []byte(strings.Repeat("s", 64)), goodPassword, 32)},
		{"16-byte key", encodeArgon2(fastArgon2, salt16, goodPassword, 16)},
		{"64-byte key", encodeArgon2(fastArgon2, salt16, goodPassword, 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := h.Verify(ctx, goodPassword, tt.encoded)
			if err != nil || !ok {
				t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
			}
			ok, _, err = h.Verify(ctx, otherPassword, tt.encoded)
			if err != nil || ok {
				t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestVerifyUnsupportedHash(t *testing.T) {
	ctx := context.Background()
	h := account.NewHasher(fastArgon2, 1)
	b64 := base64.RawStdEncoding.EncodeToString
	salt := b64([]byte("0123456789abcdef"))
	key := b64([]byte("0123456789abcdef0123456789abcdef"))
	with := func(version, params, salt, key string) string {
		return "$argon2id$" + version + "$" + params + "$" + salt + "$" + key
	}
	valid := with("v=19", "m=64,t=1,p=1", salt, key)
	if _, _, err := h.Verify(ctx, goodPassword, valid); err != nil {
		t.Fatalf("Verify(%q) = %v; the base of the table must parse", valid, err)
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"plain text", goodPassword},
		{"only dollars", "$$$$$"},
		{"no leading dollar", strings.TrimPrefix(valid, "$")},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1)},
		{"argon2d", strings.Replace(valid, "argon2id", "argon2d", 1)},
		{"upper-case algorithm", strings.Replace(valid, "argon2id", "ARGON2ID", 1)},
		{"bcrypt with cost 4", "$2a$04$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"bcrypt truncated", "$2a$10$N9qo8uLOick"},
		{"pbkdf2 with 1000 iterations", "$pbkdf2-sha256$i=1000,l=32$ABEiM0RVZneImaq7zN3u/w$rr7KdYg/x6ZzRX/IgdJXFmvgr3bn6E2YBHqvWizEyRk"},
		{"pbkdf2 without iterations", "$pbkdf2-sha256$l=32$ABEiM0RVZneImaq7zN3u/w$rr7KdYg/x6ZzRX/IgdJXFmvgr3bn6E2YBHqvWizEyRk"},
		{"django pbkdf2 with 20 million iterations", "pbkdf2_sha256$20000000$salt$GapD+hC4yw1Msnk1ysHeu0bXoXM/JS4P1BnrknWMtB8="},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E"},
		{"old version", with("v=16", "m=64,t=1,p=1", salt, key)},
		{"version not a number", with("v=x", "m=64,t=1,p=1", salt, key)},
		{"version missing", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"memory too small", with("v=19", "m=7,t=1,p=1", salt, key)},
		{"memory zero", with("v=19", "m=0,t=1,p=1", salt, key)},
		{"memory over 256 MiB", with("v=19", "m=262145,t=1,p=1", salt, key)},
		{"memory max uint32", with("v=19", "m=4294967295,t=1,p=1", salt, key)},
		{"memory overflows uint32", with("v=19", "m=99999999999,t=1,p=1", salt, key)},
		{"memory negative", with("v=19", "m=-1,t=1,p=1", salt, key)},
		{"iterations zero", with("v=19", "m=64,t=0,p=1", salt, key)},
		{"iterations 11", with("v=19", "m=64,t=11,p=1", salt, key)},
		{"iterations huge", with("v=19", "m=64,t=4294967295,p=1", salt, key)},
		{"iterations overflow uint32", with("v=19", "m=64,t=4294967296,p=1", salt, key)},
		{"parallelism zero", with("v=19", "m=64,t=1,p=0", salt, key)},
		{"parallelism 9", with("v=19", "m=64,t=1,p=9", salt, key)},
		{"parallelism 255", with("v=19", "m=64,t=1,p=255", salt, key)},
		{"parallelism overflows uint8", with("v=19", "m=64,t=1,p=256", salt, key)},
		{"parameters missing", with("v=19", "", salt, key)},
		{"parameter missing", with("v=19", "m=64,t=1", salt, key)},
		{"parameters reordered", with("v=19", "t=1,m=64,p=1", salt, key)},
		{"parameters not numbers", with("v=19", "m=a,t=b,p=c", salt, key)},
		{"salt not base64", with("v=19", "m=64,t=1,p=1", "!!!!!!!!!!!!", key)},
		{"salt padded", with("v=19", "m=64,t=1,p=1", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")), key)},
		{"salt url alphabet", with("v=19", "m=64,t=1,p=1", base64.RawURLEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe}), key)},
		{"salt too short", with("v=19", "m=64,t=1,p=1", b64([]byte("1234567")), key)},
		{"salt empty", with("v=19", "m=64,t=1,p=1", "", key)},
		{"key not base64", with("v=19", "m=64,t=1,p=1", salt, "*****")},
		{"key too short", with("v=19", "m=64,t=1,p=1", salt, b64(make([]byte, 15)))},
		{"key too long", with("v=19", "m=64,t=1,p=1", salt, b64(make([]byte, 65)))},
		{"key empty", with("v=19", "m=64,t=1,p=1", salt, "")},
		{"too few parts", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"too many parts", valid + "$extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, goodPassword, tt.encoded)
			if !errors.Is(err, account.ErrUnsupportedHash) {
				t.Errorf("err = %v, want ErrUnsupportedHash", err)
			}
			if ok || rehash {
				t.Errorf("ok, rehash = %v, %v; want false, false", ok, rehash)
			}
		})
	}
}

func TestNewHasherConcurrency(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		want        int
	}{
		{"zero means CPUs", 0, runtime.NumCPU()},
		{"negative means CPUs", -3, runtime.NumCPU()},
		{"one", 1, 1},
		{"three", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := account.HasherConcurrency(account.NewHasher(fastArgon2, tt.concurrency)); got != tt.want {
				t.Errorf("concurrency = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestHasherBoundsConcurrency fills every slot of a hasher and checks that a
// hash, a verification and a burn then wait for a slot, so they can only end
// through their context.
func TestHasherBoundsConcurrency(t *testing.T) {
	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprintf("concurrency %d", n), func(t *testing.T) {
			bg := context.Background()
			h := account.NewHasher(fastArgon2, n)
			enc, err := h.Hash(bg, goodPassword)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			for range n {
				if err := h.Acquire(bg); err != nil {
					t.Fatalf("Acquire: %v", err)
				}
			}

			ctx, cancel := context.WithCancel(bg)
			errs := make(chan error, 2)
			go func() {
				_, err := h.Hash(ctx, goodPassword)
				errs <- err
			}()
			go func() {
				_, _, err := h.Verify(ctx, goodPassword, enc)
				errs <- err
			}()
			cancel()
			for range 2 {
				if err := <-errs; !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v while every slot is held, want context.Canceled", err)
				}
			}
			h.Burn(ctx, goodPassword) // must return, not wait for a slot

			h.Release()
			if _, err := h.Hash(bg, goodPassword); err != nil {
				t.Errorf("Hash after a slot was released: %v", err)
			}
			for range n - 1 {
				h.Release()
			}
		})
	}
}

// FuzzVerifyHash feeds arbitrary stored hashes to the parser and verifier:
// neither may panic, a rejected string is ErrUnsupportedHash, and an
// accepted one is within the limits.
func FuzzVerifyHash(f *testing.F) {
	ctx := context.Background()
	h := account.NewHasher(fastArgon2, 0)
	valid, err := h.Hash(ctx, goodPassword)
	if err != nil {
		f.Fatalf("Hash: %v", err)
	}
	for _, s := range []string{
		valid,
		"",
		"$",
		"$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=8,t=1,p=255$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=64,t=1,p=1$$",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		p, salt, key, err := account.ParseArgon2(encoded)
		if err != nil {
			if !errors.Is(err, account.ErrUnsupportedHash) {
				t.Fatalf("parse error = %v, want ErrUnsupportedHash", err)
			}
			if account.CheckImportedHash(encoded) == nil {
				return // an imported format (PBKDF2, bcrypt): verified by its own tests
			}
			ok, rehash, verr := h.Verify(ctx, goodPassword, encoded)
			if ok || rehash || !errors.Is(verr, account.ErrUnsupportedHash) {
				t.Fatalf("Verify = %v, %v, %v; want false, false, ErrUnsupportedHash", ok, rehash, verr)
			}
			return
		}
		if p.MemoryKiB < 8 || p.MemoryKiB > 256*1024 || p.Iterations < 1 || p.Iterations > 10 || p.Parallelism < 1 || p.Parallelism > 8 {
			t.Fatalf("accepted parameters %+v outside the limits", p)
		}
		if len(salt) < 8 || len(key) < 16 || len(key) > 64 {
			t.Fatalf("accepted salt of %d and key of %d bytes", len(salt), len(key))
		}
		if p.MemoryKiB > 1024 || p.Iterations > 4 {
			return // legal but too slow to derive on every fuzz input
		}
		if _, _, verr := h.Verify(ctx, goodPassword, encoded); verr != nil {
			t.Fatalf("Verify of a parsed hash: %v", verr)
		}
	})
}

func TestVerifyIgnoresUnicodeComposition(t *testing.T) {
	ctx := context.Background()
	h := account.NewHasher(account.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 1)
	composed, decomposed := "Zürich-Łódź-2026", "Zu\u0308rich-Ło\u0301dz\u0301-2026"
	hash, err := h.Hash(ctx, decomposed)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, composed, hash); !ok || err != nil {
		t.Fatalf("composed form against a hash of the decomposed form: %v %v, want true", ok, err)
	}
}
