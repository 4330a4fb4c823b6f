// Package keys holds the installation's master key and each tenant's data
// key, and encrypts and decrypts personal data with them.
//
// Every tenant has its own Tink AEAD keyset (AES-256-GCM), stored in
// tenant_keys wrapped by the master key with the tenant id as associated
// data, so a wrapped keyset only opens for the tenant it belongs to. Field
// ciphertexts carry the tenant, table, column and row as associated data, so
// a ciphertext copied to another place fails to decrypt. Rotate adds a new
// data key; Rewrap moves every keyset under a new master key.
package keys

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/kandidat/kandidat/internal/db"
)

// Errors of this package, returned wrapped.
var (
	// ErrNoKey means the tenant has no data key.
	ErrNoKey = errors.New("tenant has no data key")
	// ErrWrongMasterKey means a tenant's keyset is wrapped by another master
	// key than the loaded one; the message names the expected id.
	ErrWrongMasterKey = errors.New("wrong master key")
	// ErrDecrypt means a ciphertext does not open: it was tampered with,
	// moved to another field or tenant, or made with an unknown key.
	ErrDecrypt = errors.New("ciphertext does not decrypt")
)

const (
	keysetADPrefix = "kandidat/tenant-keyset/v1|"
	fieldADPrefix  = "kandidat/field/v1|"
)

// Tink's output prefix: one version byte then the 4-byte key id.
const (
	tinkPrefixSize    = 5
	tinkPrefixVersion = 0x01
)

// Field names the place a ciphertext belongs to; it becomes the associated
// data ("kandidat/field/v1|" + tenant + "|" + Table + "|" + Column + "|" +
// Row), binding each ciphertext to company, table, column and row. All three
// must be set; Table and Column must not contain "|".
type Field struct{ Table, Column, Row string }

func (f Field) associatedData(tenantID string) ([]byte, error) {
	if f.Table == "" || f.Column == "" || f.Row == "" {
		return nil, fmt.Errorf("field %q.%q row %q: table, column and row must all be set", f.Table, f.Column, f.Row)
	}
	if strings.Contains(f.Table, "|") || strings.Contains(f.Column, "|") {
		return nil, fmt.Errorf("field %q.%q: table and column must not contain |", f.Table, f.Column)
	}
	return []byte(fieldADPrefix + tenantID + "|" + f.Table + "|" + f.Column + "|" + f.Row), nil
}

func checkTenantID(tenantID string) error {
	if tenantID == "" {
		return errors.New("empty tenant id")
	}
	if strings.Contains(tenantID, "|") {
		return fmt.Errorf("tenant id %q contains |", tenantID)
	}
	return nil
}

func keysetAD(tenantID string) []byte { return []byte(keysetADPrefix + tenantID) }

// KeyInfo describes a tenant's data key, for `kandidat keys status`.
type KeyInfo struct {
	TenantID    string
	MasterKeyID string // master key that wraps the keyset
	// Keys counts the keys in the keyset, the primary and older ones; zero
	// when the keyset is wrapped by another master key than the loaded one.
	Keys int
	// PrimaryKeyID is the Tink key id that encrypts new data (the 4 bytes
	// after the version byte of a ciphertext); zero like Keys.
	PrimaryKeyID uint32
	UpdatedAt    time.Time
}

// Keyring holds each tenant's data key (a Tink AEAD keyset, AES-256-GCM),
// stored in tenant_keys wrapped by the master key. Unwrapped keysets are
// cached in memory. A Keyring is safe for concurrent use.
type Keyring struct {
	db *db.DB

	mu     sync.Mutex
	master *MasterKey
	cache  map[string]*dataKey
	// gen counts invalidations, so that a keyset loaded before one is not
	// cached after it.
	gen uint64
}

// dataKey is a tenant's unwrapped keyset.
type dataKey struct {
	handle *keyset.Handle
	aead   tink.AEAD
	ids    map[uint32]bool
}

// New returns a Keyring over the database d using the master key.
func New(d *db.DB, master *MasterKey) *Keyring {
	return &Keyring{db: d, master: master, cache: map[string]*dataKey{}}
}

func (k *Keyring) snapshot() (*MasterKey, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.master, k.gen
}

// invalidate drops cached keysets: the tenant's, or all when tenantID is "".
func (k *Keyring) invalidate(tenantID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	if tenantID == "" {
		clear(k.cache)
	} else {
		delete(k.cache, tenantID)
	}
}

// wrap encrypts h under master for tenantID.
func wrap(h *keyset.Handle, master *MasterKey, tenantID string) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), master.aead, keysetAD(tenantID)); err != nil {
		return nil, fmt.Errorf("wrap data key of tenant %s: %w", tenantID, err)
	}
	return buf.Bytes(), nil
}

// unwrap opens a stored keyset of tenantID after checking that master is
// the one recorded with it.
func unwrap(wrapped []byte, masterID string, master *MasterKey, tenantID string) (*keyset.Handle, error) {
	if masterID != master.ID() {
		return nil, fmt.Errorf("%w: the data key of tenant %s is wrapped by master key %s, the loaded master key is %s",
			ErrWrongMasterKey, tenantID, masterID, master.ID())
	}
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), master.aead, keysetAD(tenantID))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of tenant %s: %w", tenantID, err)
	}
	return h, nil
}

func newDataKey(h *keyset.Handle, tenantID string) (*dataKey, error) {
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("data key of tenant %s: %w", tenantID, err)
	}
	ids := make(map[uint32]bool, h.Len())
	for i := range h.Len() {
		e, err := h.Entry(i)
		if err != nil {
			return nil, fmt.Errorf("data key of tenant %s: %w", tenantID, err)
		}
		ids[e.KeyID()] = true
	}
	return &dataKey{handle: h, aead: a, ids: ids}, nil
}

// CreateTenantKey generates the data key of a new tenant and stores it
// wrapped, inside the caller's transaction that creates the tenant.
func (k *Keyring) CreateTenantKey(ctx context.Context, tx *sql.Tx, tenantID string) error {
	if err := checkTenantID(tenantID); err != nil {
		return fmt.Errorf("create data key: %w", err)
	}
	k.mu.Lock()
	master := k.master
	k.mu.Unlock()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return fmt.Errorf("generate data key of tenant %s: %w", tenantID, err)
	}
	wrapped, err := wrap(h, master, tenantID)
	if err != nil {
		return err
	}
	now := db.Now()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO tenant_keys (tenant_id, wrapped_keyset, master_key_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
		tenantID, wrapped, master.ID(), now, now)
	if err != nil {
		return fmt.Errorf("store data key of tenant %s: %w", tenantID, db.MapError(err))
	}
	return nil
}

// readKey reads a tenant's stored keyset.
func readKey(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, tenantID string) (wrapped []byte, masterID string, err error) {
	err = q.QueryRowContext(ctx,
		`SELECT wrapped_keyset, master_key_id FROM tenant_keys WHERE tenant_id = $1`, tenantID).Scan(&wrapped, &masterID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("tenant %s: %w", tenantID, ErrNoKey)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read data key of tenant %s: %w", tenantID, err)
	}
	return wrapped, masterID, nil
}

// key returns the tenant's unwrapped keyset, from the cache when it holds it
// and fresh is false. cached reports whether it came from the cache.
func (k *Keyring) key(ctx context.Context, tenantID string, fresh bool) (dk *dataKey, cached bool, err error) {
	if err := checkTenantID(tenantID); err != nil {
		return nil, false, err
	}
	k.mu.Lock()
	if dk := k.cache[tenantID]; dk != nil && !fresh {
		k.mu.Unlock()
		return dk, true, nil
	}
	master, gen := k.master, k.gen
	k.mu.Unlock()

	var wrapped []byte
	var masterID string
	err = k.db.ReadTx(ctx, tenantID, func(tx *sql.Tx) (err error) {
		wrapped, masterID, err = readKey(ctx, tx, tenantID)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	h, err := unwrap(wrapped, masterID, master, tenantID)
	if err != nil {
		return nil, false, err
	}
	dk, err = newDataKey(h, tenantID)
	if err != nil {
		return nil, false, err
	}
	k.mu.Lock()
	if k.gen == gen {
		k.cache[tenantID] = dk
	}
	k.mu.Unlock()
	return dk, false, nil
}

// Encrypt encrypts plaintext with the tenant's primary data key, bound to ad.
func (k *Keyring) Encrypt(ctx context.Context, tenantID string, ad Field, plaintext []byte) ([]byte, error) {
	a, err := ad.associatedData(tenantID)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	dk, _, err := k.key(ctx, tenantID, false)
	if err != nil {
		return nil, fmt.Errorf("encrypt %s.%s: %w", ad.Table, ad.Column, err)
	}
	ct, err := dk.aead.Encrypt(plaintext, a)
	if err != nil {
		return nil, fmt.Errorf("encrypt %s.%s of tenant %s: %w", ad.Table, ad.Column, tenantID, err)
	}
	return ct, nil
}

// Decrypt decrypts a ciphertext made by Encrypt for the same tenant and
// field. It returns ErrDecrypt when the ciphertext was tampered with, made
// for another field or tenant, or made with a key the tenant does not have.
func (k *Keyring) Decrypt(ctx context.Context, tenantID string, ad Field, ciphertext []byte) ([]byte, error) {
	a, err := ad.associatedData(tenantID)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	dk, cached, err := k.key(ctx, tenantID, false)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s.%s: %w", ad.Table, ad.Column, err)
	}
	pt, err := dk.aead.Decrypt(ciphertext, a)
	if err != nil && cached && unknownKeyID(dk, ciphertext) {
		// Another process may have rotated the key since we cached it.
		dk, _, err = k.key(ctx, tenantID, true)
		if err != nil {
			return nil, fmt.Errorf("decrypt %s.%s: %w", ad.Table, ad.Column, err)
		}
		pt, err = dk.aead.Decrypt(ciphertext, a)
	}
	if err != nil {
		return nil, fmt.Errorf("decrypt %s.%s of tenant %s: %w", ad.Table, ad.Column, tenantID, ErrDecrypt)
	}
	return pt, nil
}

// unknownKeyID reports whether ciphertext names, in its Tink prefix, a key
// that dk does not hold.
func unknownKeyID(dk *dataKey, ciphertext []byte) bool {
	if len(ciphertext) < tinkPrefixSize || ciphertext[0] != tinkPrefixVersion {
		return false
	}
	return !dk.ids[binary.BigEndian.Uint32(ciphertext[1:tinkPrefixSize])]
}

// AEAD returns the tenant's data-key primitive for packages that encrypt
// other things than fields (blobs); the caller supplies its own associated
// data, which should name the tenant and the object. The primitive encrypts
// with the primary key of the moment it was asked for: ask again after Rotate
// to encrypt with the new key. Like Decrypt, it reloads the keyset once when
// a ciphertext names a key the cached keyset does not hold (another process
// rotated it), using ctx for that read; keep it for the request at hand.
func (k *Keyring) AEAD(ctx context.Context, tenantID string) (tink.AEAD, error) {
	dk, _, err := k.key(ctx, tenantID, false)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return &tenantAEAD{ctx: ctx, k: k, tenantID: tenantID, dk: dk}, nil
}

// tenantAEAD is a tenant's data key as a tink.AEAD that refreshes the
// keyring's cache on a ciphertext of an unknown key.
type tenantAEAD struct {
	ctx      context.Context
	k        *Keyring
	tenantID string
	dk       *dataKey
}

func (a *tenantAEAD) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	return a.dk.aead.Encrypt(plaintext, associatedData)
}

func (a *tenantAEAD) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	pt, err := a.dk.aead.Decrypt(ciphertext, associatedData)
	if err == nil || !unknownKeyID(a.dk, ciphertext) {
		return pt, err
	}
	// Another process may have rotated the key since this primitive's keyset
	// was read (even if it was read just now, the primitive may be kept
	// longer); the reload also lets later encryptions use the new primary key.
	dk, _, kerr := a.k.key(a.ctx, a.tenantID, true)
	if kerr != nil {
		return nil, fmt.Errorf("data key: %w", kerr)
	}
	return dk.aead.Decrypt(ciphertext, associatedData)
}

// Rotate adds a new AES-256-GCM key to the tenant's keyset and makes it
// primary. Older keys stay in the keyset, so existing ciphertexts still
// decrypt; new ones name the new key in their prefix.
func (k *Keyring) Rotate(ctx context.Context, tenantID string) error {
	if err := checkTenantID(tenantID); err != nil {
		return fmt.Errorf("rotate data key: %w", err)
	}
	master, _ := k.snapshot()
	err := k.db.InTx(ctx, tenantID, func(tx *sql.Tx) error {
		wrapped, masterID, err := readKey(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		h, err := unwrap(wrapped, masterID, master, tenantID)
		if err != nil {
			return err
		}
		m := keyset.NewManagerFromHandle(h)
		id, err := m.Add(aead.AES256GCMKeyTemplate())
		if err != nil {
			return fmt.Errorf("add key: %w", err)
		}
		if err := m.SetPrimary(id); err != nil {
			return fmt.Errorf("make key %d primary: %w", id, err)
		}
		nh, err := m.Handle()
		if err != nil {
			return fmt.Errorf("keyset: %w", err)
		}
		rewrapped, err := wrap(nh, master, tenantID)
		if err != nil {
			return err
		}
		// The old value in WHERE makes a concurrent rotation by another
		// process fail instead of silently dropping one of the new keys.
		return updateKey(ctx, tx, tenantID, wrapped, rewrapped, master.ID())
	})
	if err != nil {
		return fmt.Errorf("rotate data key of tenant %s: %w", tenantID, err)
	}
	k.invalidate(tenantID)
	return nil
}

// updateKey replaces a stored keyset if it still holds old.
func updateKey(ctx context.Context, tx *sql.Tx, tenantID string, old, wrapped []byte, masterID string) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE tenant_keys SET wrapped_keyset = $1, master_key_id = $2, updated_at = $3 WHERE tenant_id = $4 AND wrapped_keyset = $5`,
		wrapped, masterID, db.Now(), tenantID, old)
	if err != nil {
		return fmt.Errorf("store data key of tenant %s: %w", tenantID, db.MapError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store data key of tenant %s: %w", tenantID, err)
	}
	if n != 1 {
		return fmt.Errorf("data key of tenant %s changed concurrently; try again", tenantID)
	}
	return nil
}

// Rewrap re-wraps every tenant's keyset under newMaster in one transaction
// and from then on uses newMaster. n counts the keysets re-wrapped; keysets
// already under newMaster (from an earlier, interrupted change of master
// key) are checked and left alone. The data keys themselves do not change.
// Every other keyset must be wrapped by the current master key, or nothing
// changes and the error is ErrWrongMasterKey.
func (k *Keyring) Rewrap(ctx context.Context, newMaster *MasterKey) (n int, err error) {
	if newMaster == nil {
		return 0, errors.New("rewrap data keys: no new master key")
	}
	type row struct {
		tenantID, masterID string
		wrapped            []byte
	}
	master, _ := k.snapshot()
	locked := false
	err = k.db.InTx(ctx, db.Installation, func(tx *sql.Tx) error { // every company's key
		rs, err := tx.QueryContext(ctx, `SELECT tenant_id, master_key_id, wrapped_keyset FROM tenant_keys ORDER BY tenant_id`)
		if err != nil {
			return fmt.Errorf("read data keys: %w", err)
		}
		var rows []row
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.tenantID, &r.masterID, &r.wrapped); err != nil {
				rs.Close()
				return fmt.Errorf("read data keys: %w", err)
			}
			rows = append(rows, r)
		}
		if err := rs.Close(); err != nil {
			return fmt.Errorf("read data keys: %w", err)
		}
		if err := rs.Err(); err != nil {
			return fmt.Errorf("read data keys: %w", err)
		}
		for _, r := range rows {
			if r.masterID == newMaster.ID() && r.masterID != master.ID() {
				if _, err := unwrap(r.wrapped, r.masterID, newMaster, r.tenantID); err != nil {
					return err
				}
				continue
			}
			h, err := unwrap(r.wrapped, r.masterID, master, r.tenantID)
			if err != nil {
				return err
			}
			rewrapped, err := wrap(h, newMaster, r.tenantID)
			if err != nil {
				return err
			}
			if err := updateKey(ctx, tx, r.tenantID, r.wrapped, rewrapped, newMaster.ID()); err != nil {
				return err
			}
			n++
		}
		// Hold the lock from before the commit until the switch, so that no
		// keyset is wrapped here with the old master key after the commit.
		k.mu.Lock()
		locked = true
		return nil
	})
	if locked {
		if err == nil {
			k.master = newMaster
			k.gen++
			clear(k.cache)
		}
		k.mu.Unlock()
	}
	if err != nil {
		return 0, fmt.Errorf("rewrap data keys: %w", err)
	}
	return n, nil
}

// Tenants lists every tenant's data key, ordered by tenant id. Keys and
// PrimaryKeyID are zero for a keyset wrapped by another master key.
func (k *Keyring) Tenants(ctx context.Context) ([]KeyInfo, error) {
	master, _ := k.snapshot()
	type stored struct {
		ki      KeyInfo
		wrapped []byte
	}
	var all []stored
	err := k.db.ReadTx(ctx, db.Installation, func(tx *sql.Tx) error { // every company's key
		rs, err := tx.QueryContext(ctx, `SELECT tenant_id, master_key_id, wrapped_keyset, updated_at FROM tenant_keys ORDER BY tenant_id`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var st stored
			if err := rs.Scan(&st.ki.TenantID, &st.ki.MasterKeyID, &st.wrapped, &st.ki.UpdatedAt); err != nil {
				return err
			}
			all = append(all, st)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list data keys: %w", err)
	}
	var out []KeyInfo
	for _, st := range all {
		ki, wrapped := st.ki, st.wrapped
		if ki.MasterKeyID == master.ID() {
			h, err := unwrap(wrapped, ki.MasterKeyID, master, ki.TenantID)
			if err != nil {
				return nil, fmt.Errorf("list data keys: %w", err)
			}
			ki.Keys = h.Len()
			p, err := h.Primary()
			if err != nil {
				return nil, fmt.Errorf("list data keys: tenant %s: %w", ki.TenantID, err)
			}
			ki.PrimaryKeyID = p.KeyID()
		}
		ki.UpdatedAt = ki.UpdatedAt.UTC()
		out = append(out, ki)
	}
	return out, nil
}
