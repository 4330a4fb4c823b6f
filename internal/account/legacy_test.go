package account_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
)

// Hashes of "Imported-pass-9" made by independent tools:
//   - bcrypt: htpasswd 2.4 (Apache), `htpasswd -bnBC 10 "" Imported-pass-9`;
//   - PBKDF2-HMAC-SHA256: OpenSSL 3.0, `openssl kdf -keylen 32 -kdfopt digest:SHA256
//     -kdfopt pass:Imported-pass-9 -kdfopt hexsalt:… -kdfopt iter:N -binary PBKDF2 | base64`;
//   - Django's format: Python's hashlib.pbkdf2_hmac.
var importedHashes = []struct{ name, hash string }{
	{"bcrypt $2y$ (htpasswd)", "$2y$10$/bWA5sMphwWEnGJsBKj8COeeUrXFZWd.0V9W6kP7qLiSbT6dxIXCK"},
	{"PBKDF2 100k (openssl)", "$pbkdf2-sha256$i=100000,l=32$ABEiM0RVZneImaq7zN3u/w$rr7KdYg/x6ZzRX/IgdJXFmvgr3bn6E2YBHqvWizEyRk="},
	{"PBKDF2 1M as Teamio (openssl)", "$pbkdf2-sha256$i=1000000,l=32$obLD1OX2BxgpOktcbX6PkA$s4AzLD/5gysikybC8qv8HFe5Oxzi50dmMohfKJ9goT4="},
	{"Django PBKDF2 (python)", "pbkdf2_sha256$260000$django-salt-1234$GapD+hC4yw1Msnk1ysHeu0bXoXM/JS4P1BnrknWMtB8="},
}

const importedPassword = "Imported-pass-9"

func TestImportedHashesVerifyAndUpgrade(t *testing.T) {
	ctx := context.Background()
	for _, tt := range importedHashes {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, account.Options{ThrottleBase: 1})
			c := e.company(t, "acme")
			u := e.user(t, c.ID, "imported", goodPassword)
			if err := account.CheckImportedHash(tt.hash); err != nil {
				t.Fatalf("CheckImportedHash: %v", err)
			}
			e.exec(t, `UPDATE users SET password_hash = $1 WHERE id = $2`, tt.hash, u.ID)
			if _, _, err := e.svc.SignIn(ctx, "imported", "Imported-pass-8", account.Client{}); err != account.ErrInvalidCredentials {
				t.Fatalf("wrong password against an imported hash: %v", err)
			}
			if _, _, err := e.svc.SignIn(ctx, "imported", importedPassword, account.Client{}); err != nil {
				t.Fatalf("sign-in with an imported hash: %v", err)
			}
			var stored string
			e.row(`SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&stored)
			if !strings.HasPrefix(stored, "$argon2id$") {
				t.Fatalf("after sign-in the hash is %.20s…, want argon2id", stored)
			}
			if _, _, err := e.svc.SignIn(ctx, "imported", importedPassword, account.Client{}); err != nil {
				t.Fatalf("sign-in with the upgraded hash: %v", err)
			}
		})
	}
}

// TestFreshHashesFromTools makes hashes with the tools installed here, when
// they are, so the vectors above are not the only witnesses.
func TestFreshHashesFromTools(t *testing.T) {
	h := account.NewHasher(account.DefaultArgon2, 1)
	ran := 0
	if path, err := exec.LookPath("htpasswd"); err == nil {
		out, err := exec.Command(path, "-bnBC", "10", "", "Fresh-pass-77").Output()
		if err != nil {
			t.Fatal(err)
		}
		hash := strings.TrimSpace(strings.TrimPrefix(string(out), ":"))
		if ok, rehash, err := h.Verify(context.Background(), "Fresh-pass-77", hash); !ok || !rehash || err != nil {
			t.Fatalf("htpasswd hash %s: %v %v %v", hash, ok, rehash, err)
		}
		ran++
	}
	if path, err := exec.LookPath("openssl"); err == nil {
		out, err := exec.Command(path, "kdf", "-keylen", "32", "-kdfopt", "digest:SHA256", "-kdfopt", "pass:Fresh-pass-77",
			"-kdfopt", "hexsalt:0f1e2d3c4b5a69788796a5b4c3d2e1f0", "-kdfopt", "iter:50000", "PBKDF2").Output()
		if err != nil {
			t.Fatal(err)
		}
		hexKey := strings.ReplaceAll(strings.TrimSpace(string(out)), ":", "")
		hash := "$pbkdf2-sha256$i=50000,l=32$" + b64hex(t, "0f1e2d3c4b5a69788796a5b4c3d2e1f0") + "$" + b64hex(t, hexKey)
		if ok, _, err := h.Verify(context.Background(), "Fresh-pass-77", hash); !ok || err != nil {
			t.Fatalf("openssl hash %s: %v %v", hash, ok, err)
		}
		ran++
	}
	if ran == 0 {
		t.Skip("neither htpasswd nor openssl is installed; the recorded vectors of TestImportedHashesVerifyAndUpgrade still ran")
	}
}

func TestImportedHashThroughCreate(t *testing.T) {
	ctx := context.Background()
	e := newFastEnv(t)
	c := e.company(t, "acme")
	u, err := e.svc.ImportUser(ctx, access.Operator(c.ID), account.CreateUserInput{Login: "legacy", DisplayName: "Legacy"}, importedHashes[0].hash)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.SignIn(ctx, "legacy", importedPassword, account.Client{}); err != nil {
		t.Fatalf("%s: %v", u.Login, err)
	}
	if _, err := e.svc.ImportUser(ctx, access.Operator(c.ID), account.CreateUserInput{Login: "weak", DisplayName: "Weak"}, "$2a$04$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"); err == nil {
		t.Fatal("a bcrypt hash of cost 4 was imported")
	}
}

func b64hex(t testing.TB, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawStdEncoding.EncodeToString(b)
}
