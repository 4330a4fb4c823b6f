package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kandidat/kandidat/internal/db"
)

// Signer holds the Ed25519 key that signs checkpoints. It is kept in a file
// beside the master key, never in the database, so whoever can edit the
// database cannot forge a checkpoint.
type Signer struct {
	priv ed25519.PrivateKey
	id   string
}

const signerPrefix = "kandidat-audit-key-v1:"

func newSigner(seed []byte) *Signer {
	priv := ed25519.NewKeyFromSeed(seed)
	sum := sha256.Sum256(priv.Public().(ed25519.PublicKey))
	return &Signer{priv: priv, id: hex.EncodeToString(sum[:8])}
}

// KeyID identifies the signing key: the start of the SHA-256 of its public key.
func (s *Signer) KeyID() string { return s.id }

// PublicKey returns the verification key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// ReadSigner reads the signing key file.
func ReadSigner(path string) (*Signer, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read audit signing key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit signing key %s is readable by others (mode %o); run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read audit signing key: %w", err)
	}
	raw, ok := strings.CutPrefix(strings.TrimSpace(string(b)), signerPrefix)
	if !ok {
		return nil, fmt.Errorf("audit signing key %s: not a kandidat audit key", path)
	}
	seed, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit signing key %s: malformed", path)
	}
	return newSigner(seed), nil
}

// LoadOrCreateSigner reads the signing key, or creates it (mode 0600) when absent.
func LoadOrCreateSigner(path string) (*Signer, bool, error) {
	s, err := ReadSigner(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return s, false, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("create audit signing key: %w", err)
	}
	if _, err := f.WriteString(signerPrefix + base64.StdEncoding.EncodeToString(seed) + "\n"); err != nil {
		f.Close()
		return nil, false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, err
	}
	if err := f.Close(); err != nil {
		return nil, false, err
	}
	return newSigner(seed), true, nil
}

// Checkpoint is a signed statement of a chain's head: its sequence number
// (the count of records ever appended) and hash at a time.
//
// A prune checkpoint (Reason "prune") is signed just before the records up
// to Seq are deleted, and is the only kind that vouches for their absence:
// Verify accepts a chain that starts after #1 only from one. Version 2, made
// since prune checkpoints sign their cut-off, also signs PrunedBefore: the
// time the deleted records were older than. (Version 1 signed the reason and
// the sequence number, the cut-off of the chain, but not the time.)
type Checkpoint struct {
	TenantID     string     `json:"tenant_id"`
	Track        Track      `json:"track"`
	Seq          int64      `json:"seq"`
	Hash         string     `json:"hash"`
	CreatedAt    time.Time  `json:"created_at"`
	Reason       string     `json:"reason"`
	Version      int        `json:"version,omitempty"`
	PrunedBefore *time.Time `json:"pruned_before,omitempty"`
	KeyID        string     `json:"key_id"`
	Signature    string     `json:"signature"`
}

// ReasonPrune is the reason of a checkpoint signed before pruning.
const ReasonPrune = "prune"

// checkpointVersion is the version of the statement new checkpoints sign.
const checkpointVersion = 2

func (c *Checkpoint) message() []byte {
	head := strconv.FormatInt(c.Seq, 10) + "|" + c.Hash + "|" + c.CreatedAt.UTC().Format(timeFormat) + "|" + c.Reason
	if c.Version < 2 {
		return []byte("kandidat-audit-checkpoint/v1|" + c.TenantID + "|" + string(c.Track) + "|" + head)
	}
	// What the checkpoint vouches for is signed in words: a prune
	// checkpoint names its cut-off, the records up to seq and before a time
	// that were deleted; any other vouches for nothing missing.
	scope := "head"
	if c.Reason == ReasonPrune && c.PrunedBefore != nil {
		scope = "prune|through=" + strconv.FormatInt(c.Seq, 10) + "|before=" + c.PrunedBefore.UTC().Format(timeFormat)
	}
	return []byte("kandidat-audit-checkpoint/v2|" + c.TenantID + "|" + string(c.Track) + "|" + head + "|" + scope)
}

// Prune reports whether the checkpoint was signed for a prune, and so may
// vouch for the deletion of the records up to it.
func (c *Checkpoint) Prune() bool {
	if c.Version < 2 {
		return c.Reason == ReasonPrune
	}
	return c.Reason == ReasonPrune && c.PrunedBefore != nil
}

func (s *Signer) sign(c *Checkpoint) {
	c.Version = checkpointVersion
	c.KeyID = s.id
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.priv, c.message()))
}

// Valid reports whether the checkpoint's signature verifies with pub.
func (c *Checkpoint) Valid(pub ed25519.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	return err == nil && c.Version <= checkpointVersion && ed25519.Verify(pub, c.message(), sig)
}

// SetCheckpointFile sets where checkpoints are exported, one JSON object a
// line, outside the database: truncating the database's tail, checkpoints
// included, is still detected against it.
func (l *Log) SetCheckpointFile(path string) { l.checkpointFile = path }

// SetCheckpointExport sets a second place every new checkpoint is appended
// to, meant to be off the host (a mount of another machine, a file a
// shipper follows): whoever controls this host cannot take back what was
// written there. Unlike the checkpoint file, its directory is never
// created: a mount that is missing is an error, not a local directory.
func (l *Log) SetCheckpointExport(path string) { l.checkpointExport = path }

// export appends cps to the checkpoint file and to the export. Both are
// attempted; the error names each that failed.
func (l *Log) export(cps []Checkpoint) error {
	if len(cps) == 0 {
		return nil
	}
	var errs []error
	if l.checkpointFile != "" {
		if err := os.MkdirAll(filepath.Dir(l.checkpointFile), 0o700); err != nil {
			errs = append(errs, fmt.Errorf("export checkpoints: %w", err))
		} else if err := appendCheckpoints(l.checkpointFile, cps); err != nil {
			errs = append(errs, err)
		}
	}
	if l.checkpointExport != "" {
		if err := appendCheckpoints(l.checkpointExport, cps); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// appendCheckpoints appends cps to path, one JSON line each, and syncs.
func appendCheckpoints(path string, cps []Checkpoint) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("export checkpoints: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range cps {
		if err := enc.Encode(&cps[i]); err != nil {
			f.Close()
			return fmt.Errorf("export checkpoints to %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("export checkpoints to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("export checkpoints to %s: %w", path, err)
	}
	return f.Close()
}

// ReadCheckpoints reads exported checkpoints.
func ReadCheckpoints(r io.Reader) ([]Checkpoint, error) {
	var out []Checkpoint
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("checkpoint file line %d: %v", line, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// ReadCheckpointFile reads the exported checkpoints; a missing file holds none.
func ReadCheckpointFile(path string) ([]Checkpoint, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadCheckpoints(f)
}

type chain struct {
	tenantID string
	track    Track
}

func (l *Log) chains(ctx context.Context, tenantID *string) ([]chain, error) {
	q := `SELECT DISTINCT tenant_id, track FROM audit_records`
	q2 := `SELECT DISTINCT tenant_id, track FROM audit_checkpoints`
	var args []any
	if tenantID != nil {
		q += ` WHERE tenant_id = $1`
		q2 += ` WHERE tenant_id = $1`
		args = append(args, *tenantID)
	}
	scope := db.Installation // every company's chains
	if tenantID != nil {
		scope = scopeOf(*tenantID)
	}
	var out []chain
	err := l.each(ctx, scope, q+` UNION `+q2+` ORDER BY 1, 2`, args, func(rows *sql.Rows) error {
		var c chain
		var track string
		if err := rows.Scan(&c.tenantID, &track); err != nil {
			return err
		}
		c.track = Track(track)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit chains: %w", err)
	}
	return out, nil
}

// Checkpoint signs the head of every chain that has grown since its last
// checkpoint, stores the checkpoints and exports them. It returns them.
func (l *Log) Checkpoint(ctx context.Context, reason string) ([]Checkpoint, error) {
	if l.signer == nil {
		return nil, errors.New("checkpoint: no signing key")
	}
	chains, err := l.chains(ctx, nil)
	if err != nil {
		return nil, err
	}
	var made []Checkpoint
	for _, c := range chains {
		var cp *Checkpoint
		err := l.db.InTx(ctx, scopeOf(c.tenantID), func(tx *sql.Tx) error {
			var err error
			cp, err = l.checkpointTx(ctx, tx, c.tenantID, c.track, 0, reason, nil)
			return err
		})
		if err != nil {
			return made, err
		}
		if cp != nil {
			made = append(made, *cp)
		}
	}
	return made, l.export(made)
}

// checkpointTx signs the chain at seq (0: its head) unless a checkpoint
// exists there already. A prune checkpoint (prunedBefore set) replaces an
// ordinary one at the same record: only a prune checkpoint vouches for the
// records before it once they are gone (the ordinary one stays in the
// exported files, and says the same of the chain's hash).
func (l *Log) checkpointTx(ctx context.Context, tx *sql.Tx, tenantID string, track Track, seq int64, reason string, prunedBefore *time.Time) (*Checkpoint, error) {
	var hash string
	var err error
	if seq == 0 {
		err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_records WHERE tenant_id = $1 AND track = $2 ORDER BY seq DESC LIMIT 1`,
			tenantID, string(track)).Scan(&seq, &hash)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT hash FROM audit_records WHERE tenant_id = $1 AND track = $2 AND seq = $3`,
			tenantID, string(track), seq).Scan(&hash)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read chain head: %w", err)
	}
	var existing string
	err = tx.QueryRowContext(ctx, `SELECT reason FROM audit_checkpoints WHERE tenant_id = $1 AND track = $2 AND seq = $3`,
		tenantID, string(track), seq).Scan(&existing)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("read checkpoint: %w", err)
	case prunedBefore == nil || existing == ReasonPrune:
		return nil, nil
	default:
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND track = $2 AND seq = $3`,
			tenantID, string(track), seq); err != nil {
			return nil, fmt.Errorf("replace checkpoint: %w", err)
		}
	}
	cp := &Checkpoint{TenantID: tenantID, Track: track, Seq: seq, Hash: hash, CreatedAt: l.now(), Reason: reason}
	if prunedBefore != nil {
		t := db.Time(*prunedBefore)
		cp.PrunedBefore = &t
	}
	l.signer.sign(cp)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (tenant_id, track, seq, hash, created_at, reason, version, pruned_before, key_id, signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, cp.TenantID, string(cp.Track), cp.Seq, cp.Hash, cp.CreatedAt, cp.Reason, cp.Version,
		cp.PrunedBefore, cp.KeyID, cp.Signature); err != nil {
		return nil, fmt.Errorf("store checkpoint: %w", db.MapError(err))
	}
	return cp, nil
}

func (l *Log) storedCheckpoints(ctx context.Context, c chain) ([]Checkpoint, error) {
	var out []Checkpoint
	err := l.each(ctx, scopeOf(c.tenantID), `SELECT seq, hash, created_at, reason, version, pruned_before, key_id, signature FROM audit_checkpoints
		WHERE tenant_id = $1 AND track = $2 ORDER BY seq`, []any{c.tenantID, string(c.track)}, func(rows *sql.Rows) error {
		cp := Checkpoint{TenantID: c.tenantID, Track: c.track}
		var prunedBefore sql.NullTime
		if err := rows.Scan(&cp.Seq, &cp.Hash, &cp.CreatedAt, &cp.Reason, &cp.Version, &prunedBefore, &cp.KeyID, &cp.Signature); err != nil {
			return err
		}
		if prunedBefore.Valid {
			t := prunedBefore.Time
			cp.PrunedBefore = &t
		}
		out = append(out, cp)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return out, nil
}
