package keys_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kandidat/kandidat/internal/db"
	"github.com/kandidat/kandidat/internal/db/dbtest"
	"github.com/kandidat/kandidat/internal/keys"
)

var nameField = keys.Field{Table: "candidates", Column: "name", Row: "c1"}

func newMaster(t testing.TB) *keys.MasterKey {
	t.Helper()
	m, err := keys.GenerateMasterKey()
	if err != nil {
		t.Fatalf("generate master key: %v", err)
	}
	return m
}

// addTenant creates a tenant row and its data key in one transaction, as the
// tenant store does.
func addTenant(t testing.TB, d *db.DB, k *keys.Keyring, id string) {
	t.Helper()
	ctx := context.Background()
	err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		now := db.Now()
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO tenants (id, slug, name, default_language, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, "slug-"+id, "Company "+id, "en", now, now); err != nil {
			return err
		}
		return k.CreateTenantKey(ctx, tx, id)
	})
	if err != nil {
		t.Fatalf("add tenant %s: %v", id, err)
	}
}

// setup returns a database with tenants "a" and "b" and a Keyring.
func setup(t testing.TB) (*db.DB, *keys.MasterKey, *keys.Keyring) {
	t.Helper()
	d := dbtest.Open(t)
	m := newMaster(t)
	k := keys.New(d, m)
	addTenant(t, d, k, "a")
	addTenant(t, d, k, "b")
	return d, m, k
}

func TestRoundTrip(t *testing.T) {
	_, _, k := setup(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"text", []byte("Anna Svensson")},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}},
		{"large", bytes.Repeat([]byte("x"), 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := k.Encrypt(ctx, "a", nameField, tt.plaintext)
			if err != nil {
				t.Fatalf("encrypt: %v", err)
			}
			if len(tt.plaintext) > 4 && bytes.Contains(ct, tt.plaintext) {
				t.Fatal("ciphertext contains the plaintext")
			}
			got, err := k.Decrypt(ctx, "a", nameField, ct)
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("got %d bytes %q, want %d bytes", len(got), truncate(got), len(tt.plaintext))
			}
			ct2, err := k.Encrypt(ctx, "a", nameField, tt.plaintext)
			if err != nil {
				t.Fatalf("encrypt again: %v", err)
			}
			if bytes.Equal(ct, ct2) {
				t.Fatal("got the same ciphertext twice, want a fresh nonce each time")
			}
		})
	}
}

func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func TestDecryptRejects(t *testing.T) {
	_, _, k := setup(t)
	ctx := context.Background()
	ct, err := k.Encrypt(ctx, "a", nameField, []byte("Anna Svensson"))
	if err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		tenant string
		field  keys.Field
		ct     []byte
	}{
		{"other tenant", "b", nameField, ct},
		{"other table", "a", keys.Field{Table: "employees", Column: "name", Row: "c1"}, ct},
		{"other column", "a", keys.Field{Table: "candidates", Column: "email", Row: "c1"}, ct},
		{"other row", "a", keys.Field{Table: "candidates", Column: "name", Row: "c2"}, ct},
		{"tampered prefix version", "a", nameField, flip(0)},
		{"tampered key id", "a", nameField, flip(3)},
		{"tampered nonce", "a", nameField, flip(6)},
		{"tampered body", "a", nameField, flip(20)},
		{"tampered tag", "a", nameField, flip(len(ct) - 1)},
		{"truncated", "a", nameField, ct[:len(ct)-1]},
		{"prefix only", "a", nameField, ct[:5]},
		{"empty", "a", nameField, nil},
		{"extended", "a", nameField, append(bytes.Clone(ct), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Decrypt(ctx, tt.tenant, tt.field, tt.ct)
			if !errors.Is(err, keys.ErrDecrypt) {
				t.Fatalf("got %q, %v; want ErrDecrypt", got, err)
			}
		})
	}

}

func TestInvalidField(t *testing.T) {
	_, _, k := setup(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		tenant string
		field  keys.Field
	}{
		{"no table", "a", keys.Field{Column: "name", Row: "c1"}},
		{"no column", "a", keys.Field{Table: "candidates", Row: "c1"}},
		{"no row", "a", keys.Field{Table: "candidates", Column: "name"}},
		{"bar in table", "a", keys.Field{Table: "candidates|x", Column: "name", Row: "c1"}},
		{"bar in column", "a", keys.Field{Table: "candidates", Column: "x|name", Row: "c1"}},
		{"no tenant", "", nameField},
		{"bar in tenant", "a|b", nameField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ct, err := k.Encrypt(ctx, tt.tenant, tt.field, []byte("x")); err == nil {
				t.Fatalf("encrypt: got %x, nil; want an error", ct)
			}
			if _, err := k.Decrypt(ctx, tt.tenant, tt.field, []byte("x")); err == nil {
				t.Fatal("decrypt: got nil error, want one")
			}
		})
	}
}

func TestMovedKeysetDoesNotUnwrap(t *testing.T) {
	d, m, k := setup(t)
	ctx := context.Background()
	if _, err := d.Write.ExecContext(ctx,
		`UPDATE tenant_keys SET wrapped_keyset = (SELECT wrapped_keyset FROM tenant_keys WHERE tenant_id = $1) WHERE tenant_id = $2`,
		"a", "b"); err != nil {
		t.Fatal(err)
	}
	k2 := keys.New(d, m) // empty cache
	_, err := k2.Encrypt(ctx, "b", nameField, []byte("x"))
	if err == nil || errors.Is(err, keys.ErrNoKey) || errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("got %v, want an unwrap error", err)
	}
	if !strings.Contains(err.Error(), "unwrap") {
		t.Fatalf("got %q, want it to mention unwrap", err)
	}
	if _, err := k.Encrypt(ctx, "a", nameField, []byte("x")); err != nil {
		t.Fatalf("tenant a: %v", err)
	}
}

func TestNoKey(t *testing.T) {
	d, _, k := setup(t)
	ctx := context.Background()
	if _, err := k.Encrypt(ctx, "nobody", nameField, []byte("x")); !errors.Is(err, keys.ErrNoKey) {
		t.Fatalf("encrypt: got %v, want ErrNoKey", err)
	}
	if _, err := k.Decrypt(ctx, "nobody", nameField, []byte("x")); !errors.Is(err, keys.ErrNoKey) {
		t.Fatalf("decrypt: got %v, want ErrNoKey", err)
	}
	if _, err := k.AEAD(ctx, "nobody"); !errors.Is(err, keys.ErrNoKey) {
		t.Fatalf("AEAD: got %v, want ErrNoKey", err)
	}
	if err := k.Rotate(ctx, "nobody"); !errors.Is(err, keys.ErrNoKey) {
		t.Fatalf("rotate: got %v, want ErrNoKey", err)
	}

	// A key created in a transaction that rolls back does not exist.
	rollback := errors.New("rollback")
	err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error {
		now := db.Now()
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO tenants (id, slug, name, default_language, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			"c", "slug-c", "Company c", "en", now, now); err != nil {
			return err
		}
		if err := k.CreateTenantKey(ctx, tx, "c"); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("transaction: got %v, want the rollback error", err)
	}
	if _, err := k.Encrypt(ctx, "c", nameField, []byte("x")); !errors.Is(err, keys.ErrNoKey) {
		t.Fatalf("after rollback: got %v, want ErrNoKey", err)
	}
}

func TestCreateTenantKeyTwice(t *testing.T) {
	d, _, k := setup(t)
	ctx := context.Background()
	err := d.InTx(ctx, db.Installation, func(tx *sql.Tx) error { return k.CreateTenantKey(ctx, tx, "a") })
	if !errors.Is(err, db.ErrUniqueViolation) {
		t.Fatalf("got %v, want ErrUniqueViolation", err)
	}
	err = d.InTx(ctx, db.Installation, func(tx *sql.Tx) error { return k.CreateTenantKey(ctx, tx, "no-such-tenant") })
	if !errors.Is(err, db.ErrForeignKeyViolation) {
		t.Fatalf("unknown tenant: got %v, want ErrForeignKeyViolation", err)
	}
}

func TestAEAD(t *testing.T) {
	_, _, k := setup(t)
	ctx := context.Background()
	a, err := k.AEAD(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("blob|a|123")
	ct, err := a.Encrypt([]byte("file content"), ad)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := k.AEAD(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	got, err := a2.Decrypt(ct, ad)
	if err != nil || string(got) != "file content" {
		t.Fatalf("got %q, %v; want %q", got, err, "file content")
	}
	if _, err := a2.Decrypt(ct, []byte("blob|a|124")); err == nil {
		t.Fatal("decrypt with other associated data: got nil error, want one")
	}
	b, err := k.AEAD(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Decrypt(ct, ad); err == nil {
		t.Fatal("decrypt with tenant b's key: got nil error, want one")
	}
}

// TestAEADAfterRotationElsewhere: a keyring that cached a company's key
// before another process rotated it opens, through AEAD, what the other
// process encrypted with the new key, and encrypts with it afterwards.
func TestAEADAfterRotationElsewhere(t *testing.T) {
	d, m, k := setup(t)
	ctx := context.Background()
	ad := []byte("blob|a|123")
	stale, err := k.AEAD(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	before, err := stale.Encrypt([]byte("before"), ad)
	if err != nil {
		t.Fatal(err)
	}
	other := keys.New(d, m)
	if err := other.Rotate(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	a, err := other.AEAD(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	after, err := a.Encrypt([]byte("after"), ad)
	if err != nil {
		t.Fatal(err)
	}
	for name, ct := range map[string][]byte{"before": before, "after": after} {
		if got, err := stale.Decrypt(ct, ad); err != nil || string(got) != name {
			t.Errorf("%s, primitive from before the rotation: %q, %v", name, got, err)
		}
	}
	again, err := k.AEAD(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := again.Encrypt([]byte("later"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if keyID(ct) != keyID(after) {
		t.Errorf("after meeting the new key, encrypts with key %d, want the new primary %d", keyID(ct), keyID(after))
	}
	// An unknown key id after the reload is a failure, not a loop.
	forged := bytes.Clone(after)
	binary.BigEndian.PutUint32(forged[1:5], keyID(after)^0x5a5a5a5a)
	if _, err := stale.Decrypt(forged, ad); err == nil {
		t.Error("a ciphertext of a key the company does not have decrypted")
	}
}

func keyID(ct []byte) uint32 { return binary.BigEndian.Uint32(ct[1:5]) }

func TestRotate(t *testing.T) {
	d, m, k := setup(t)
	ctx := context.Background()
	// other stands for a second process that cached the keyset before the rotation.
	other := keys.New(d, m)
	old, err := k.Encrypt(ctx, "a", nameField, []byte("before"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Decrypt(ctx, "a", nameField, old); err != nil {
		t.Fatalf("other keyring: %v", err)
	}
	bOld, err := k.Encrypt(ctx, "b", nameField, []byte("b before"))
	if err != nil {
		t.Fatal(err)
	}

	if err := k.Rotate(ctx, "a"); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	fresh, err := k.Encrypt(ctx, "a", nameField, []byte("after"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(old[:5], fresh[:5]) {
		t.Fatalf("got the same key prefix %x before and after rotation, want a new key", old[:5])
	}
	for _, c := range []struct {
		name string
		kr   *keys.Keyring
		ct   []byte
		want string
	}{
		{"old ciphertext", k, old, "before"},
		{"new ciphertext", k, fresh, "after"},
		{"new ciphertext, stale cache", other, fresh, "after"},
		{"new keyring, old ciphertext", keys.New(d, m), old, "before"},
	} {
		got, err := c.kr.Decrypt(ctx, "a", nameField, c.ct)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}

	infos, err := k.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].TenantID != "a" || infos[1].TenantID != "b" {
		t.Fatalf("got tenants %+v, want a and b", infos)
	}
	if infos[0].Keys != 2 || infos[0].PrimaryKeyID != keyID(fresh) {
		t.Errorf("tenant a: got %d keys, primary %d; want 2 keys, primary %d", infos[0].Keys, infos[0].PrimaryKeyID, keyID(fresh))
	}
	if infos[1].Keys != 1 || infos[1].PrimaryKeyID != keyID(bOld) {
		t.Errorf("tenant b: got %d keys, primary %d; want 1 key, primary %d", infos[1].Keys, infos[1].PrimaryKeyID, keyID(bOld))
	}
	for _, in := range infos {
		if in.MasterKeyID != m.ID() {
			t.Errorf("tenant %s: got master key id %s, want %s", in.TenantID, in.MasterKeyID, m.ID())
		}
		if in.UpdatedAt.IsZero() {
			t.Errorf("tenant %s: got zero updated_at", in.TenantID)
		}
	}

	// Rotating again keeps every earlier ciphertext readable.
	if err := k.Rotate(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for _, ct := range [][]byte{old, fresh} {
		if _, err := k.Decrypt(ctx, "a", nameField, ct); err != nil {
			t.Errorf("after second rotation: %v", err)
		}
	}
	if got, err := k.Decrypt(ctx, "b", nameField, bOld); err != nil || string(got) != "b before" {
		t.Errorf("tenant b: got %q, %v; want %q", got, err, "b before")
	}
}

func TestRewrap(t *testing.T) {
	d, oldMaster, k := setup(t)
	ctx := context.Background()
	cts := map[string][]byte{}
	for _, tenant := range []string{"a", "b"} {
		ct, err := k.Encrypt(ctx, tenant, nameField, []byte("secret of "+tenant))
		if err != nil {
			t.Fatal(err)
		}
		cts[tenant] = ct
	}
	newMaster := newMaster(t)

	// A keyring with an unrelated master key changes nothing.
	if _, err := keys.New(d, newMaster).Rewrap(ctx, newMaster); !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("rewrap with the wrong current key: got %v, want ErrWrongMasterKey", err)
	}

	n, err := k.Rewrap(ctx, newMaster)
	if err != nil {
		t.Fatalf("rewrap: %v", err)
	}
	if n != 2 {
		t.Fatalf("got %d keysets rewrapped, want 2", n)
	}
	check := func(name string, kr *keys.Keyring) {
		t.Helper()
		for tenant, ct := range cts {
			got, err := kr.Decrypt(ctx, tenant, nameField, ct)
			if err != nil || string(got) != "secret of "+tenant {
				t.Errorf("%s, tenant %s: got %q, %v; want %q", name, tenant, got, err, "secret of "+tenant)
			}
		}
	}
	check("same keyring", k)
	check("new keyring", keys.New(d, newMaster))

	stale := keys.New(d, oldMaster)
	_, err = stale.Decrypt(ctx, "a", nameField, cts["a"])
	if !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("old master key: got %v, want ErrWrongMasterKey", err)
	}
	if !strings.Contains(err.Error(), newMaster.ID()) {
		t.Errorf("got %q, want it to name the expected master key id %s", err, newMaster.ID())
	}
	if strings.Contains(err.Error(), fmt.Sprintf("%x", keys.RawMasterKey(newMaster))) {
		t.Error("error message contains the master key")
	}

	// New tenants are wrapped with the new master key.
	addTenant(t, d, k, "c")
	infos, err := k.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if in.MasterKeyID != newMaster.ID() {
			t.Errorf("tenant %s: got master key id %s, want %s", in.TenantID, in.MasterKeyID, newMaster.ID())
		}
	}

	// A keyring with the old key lists the keysets without unwrapping them.
	staleInfos, err := stale.Tenants(ctx)
	if err != nil {
		t.Fatalf("tenants with the old master key: %v", err)
	}
	if len(staleInfos) != 3 {
		t.Fatalf("got %d tenants, want 3", len(staleInfos))
	}
	for _, in := range staleInfos {
		if in.MasterKeyID != newMaster.ID() || in.Keys != 0 {
			t.Errorf("tenant %s: got master key id %s, %d keys; want %s, 0 keys", in.TenantID, in.MasterKeyID, in.Keys, newMaster.ID())
		}
	}

	// Running it again from the old key (an interrupted change) finds
	// nothing left to do.
	if n, err := stale.Rewrap(ctx, newMaster); err != nil || n != 0 {
		t.Fatalf("second rewrap: got %d, %v; want 0, nil", n, err)
	}
	check("after second rewrap", stale)
}

func TestWrappedKeysetHidesKeys(t *testing.T) {
	d, m, k := setup(t)
	ctx := context.Background()
	if err := k.Rotate(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	raw, err := keys.RawDataKeys(ctx, k, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 2 {
		t.Fatalf("got %d data keys, want 2", len(raw))
	}
	var wrapped []byte
	if err := d.Read.QueryRowContext(ctx, `SELECT wrapped_keyset FROM tenant_keys WHERE tenant_id = $1`, "a").Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	secrets := append(raw, keys.RawMasterKey(m))
	for i, s := range secrets {
		if len(s) != 32 {
			t.Errorf("secret %d: got %d bytes, want 32", i, len(s))
		}
		if bytes.Contains(wrapped, s) {
			t.Errorf("wrapped keyset contains secret %d in clear", i)
		}
		if bytes.Contains(wrapped, []byte(fmt.Sprintf("%x", s))) {
			t.Errorf("wrapped keyset contains secret %d in hex", i)
		}
	}
}

// TestConcurrentUse runs encryption while the key rotates; run with -race.
func TestConcurrentUse(t *testing.T) {
	_, _, k := setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				f := keys.Field{Table: "candidates", Column: "name", Row: fmt.Sprintf("%d-%d", g, i)}
				ct, err := k.Encrypt(ctx, "a", f, []byte("x"))
				if err != nil {
					errs <- err
					return
				}
				if _, err := k.Decrypt(ctx, "a", f, ct); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 3 {
			if err := k.Rotate(ctx, "a"); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func FuzzDecrypt(f *testing.F) {
	_, _, k := setup(f)
	ctx := context.Background()
	valid, err := k.Encrypt(ctx, "a", nameField, []byte("Anna Svensson"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Add(valid[:5])
	f.Add(append(bytes.Clone(valid[:5]), make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, ct []byte) {
		got, err := k.Decrypt(ctx, "a", nameField, ct)
		if bytes.Equal(ct, valid) {
			if err != nil || string(got) != "Anna Svensson" {
				t.Fatalf("valid ciphertext: got %q, %v; want %q", got, err, "Anna Svensson")
			}
			return
		}
		if !errors.Is(err, keys.ErrDecrypt) {
			t.Fatalf("got %q, %v; want ErrDecrypt", got, err)
		}
	})
}

func BenchmarkEncryptField(b *testing.B) {
	_, _, k := setup(b)
	ctx := context.Background()
	plaintext := bytes.Repeat([]byte("a"), 1024)
	if _, err := k.Encrypt(ctx, "a", nameField, plaintext); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plaintext)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Encrypt(ctx, "a", nameField, plaintext); err != nil {
			b.Fatal(err)
		}
	}
}
