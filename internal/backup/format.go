package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"

	"filippo.io/age"
)

// FormatVersion is the layout of a backup this package writes (Manifest.Format).
const FormatVersion = 1

// Names of a backup's parts (Part.Name) and objects.
const (
	PartSQLite      = "database.sqlite"
	PartPGDump      = "database.pgdump"
	PartFiles       = "files.tar"
	PartLedger      = "erasures.jsonl"
	PartCheckpoints = "audit-checkpoints.jsonl"
	// ManifestObject is written last: its presence makes a backup complete.
	ManifestObject = "manifest.json.age"
	// VerifiedObject is the plaintext record of the newest verify.
	VerifiedObject = "verified.json"
)

// Engines a backup names (Manifest.Engine).
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// Manifest describes a complete backup; it is encrypted like the parts
// and written after them.
type Manifest struct {
	Format        int       `json:"format"`
	ID            string    `json:"id"`
	Version       string    `json:"kandidat_version"`
	Engine        string    `json:"engine"`
	SchemaVersion int       `json:"schema_version"` // number of the newest applied migration
	Migrations    []string  `json:"migrations"`     // names of the applied migrations
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Parts         []Part    `json:"parts"`
	Files         int       `json:"files"` // objects in files.tar
}

// Part is one encrypted object of a backup.
type Part struct {
	Name         string `json:"name"`          // "database.sqlite", "files.tar", ...
	Object       string `json:"object"`        // "database.sqlite.age"
	Size         int64  `json:"size"`          // plaintext bytes
	SHA256       string `json:"sha256"`        // hex, of the plaintext
	StoredSize   int64  `json:"stored_size"`   // ciphertext bytes
	StoredSHA256 string `json:"stored_sha256"` // hex, of the ciphertext
}

// VerifyRecord is <id>/verified.json: the newest verify of a backup.
type VerifyRecord struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Problem string    `json:"problem,omitempty"` // a sentence, no personal data
	Host    string    `json:"host,omitempty"`
}

// Part returns the part named name, or nil.
func (m *Manifest) Part(name string) *Part {
	for i := range m.Parts {
		if m.Parts[i].Name == name {
			return &m.Parts[i]
		}
	}
	return nil
}

// maxManifest bounds the manifest read from a target (it is a few KiB).
const maxManifest = 1 << 20

// parseManifest reads and checks a decrypted manifest: a manifest that
// parses but names parts this version does not know, or an object outside
// its backup, is refused rather than followed.
func parseManifest(b []byte) (*Manifest, error) {
	if len(b) > maxManifest {
		return nil, errors.New("manifest is too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest does not parse: %v", err)
	}
	if dec.More() {
		return nil, errors.New("manifest has data after its end")
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("manifest format %d is not %d", m.Format, FormatVersion)
	}
	if _, err := ParseID(m.ID); err != nil {
		return nil, fmt.Errorf("manifest id: %v", err)
	}
	var db string
	switch m.Engine {
	case EngineSQLite:
		db = PartSQLite
	case EnginePostgres:
		db = PartPGDump
	default:
		return nil, fmt.Errorf("manifest names an unknown engine %q", m.Engine)
	}
	if m.SchemaVersion < 0 || m.Files < 0 {
		return nil, errors.New("manifest has a negative count")
	}
	seen := map[string]bool{}
	for _, p := range m.Parts {
		switch p.Name {
		case db, PartFiles, PartLedger, PartCheckpoints:
		default:
			return nil, fmt.Errorf("manifest names an unknown part %q", p.Name)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("manifest names part %s twice", p.Name)
		}
		seen[p.Name] = true
		if p.Object != p.Name+".age" {
			return nil, fmt.Errorf("part %s has object %q", p.Name, p.Object)
		}
		if p.Size < 0 || p.StoredSize < 0 || !isSHA256(p.SHA256) || !isSHA256(p.StoredSHA256) {
			return nil, fmt.Errorf("part %s has a bad size or hash", p.Name)
		}
	}
	for _, want := range []string{db, PartFiles, PartLedger, PartCheckpoints} {
		if !seen[want] {
			return nil, fmt.Errorf("manifest lacks part %s", want)
		}
	}
	return &m, nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// sealManifest encrypts the manifest to the recipients.
func sealManifest(m *Manifest, recipients []age.Recipient) ([]byte, error) {
	plain, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypt the manifest: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// readManifest fetches and opens the manifest of backup id: ErrNotFound
// when the target holds nothing of it, ErrIncomplete when it holds parts
// but no manifest, ErrWrongIdentity when no identity opens it, ErrCorrupt
// when it does not decrypt or parse.
func readManifest(ctx context.Context, t Target, id string, ids []age.Identity) (*Manifest, error) {
	if _, err := ParseID(id); err != nil {
		return nil, fmt.Errorf("%w: %q is not a backup id (YYYYMMDDTHHMMSS.mmmZ-xxxxxx)", ErrNotFound, id)
	}
	if len(ids) == 0 {
		return nil, errors.New("no age identity given to open the backup")
	}
	rc, err := t.Get(ctx, id+"/"+ManifestObject)
	if errors.Is(err, ErrNotFound) {
		objs, lerr := t.List(ctx, id+"/")
		if lerr != nil {
			return nil, lerr
		}
		if len(objs) == 0 {
			return nil, fmt.Errorf("%w: no backup %s on target %s", ErrNotFound, id, t.Name())
		}
		return nil, fmt.Errorf("%w: backup %s on target %s has no manifest: its creation did not finish", ErrIncomplete, id, t.Name())
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	r, err := age.Decrypt(io.LimitReader(rc, maxManifest+4096), ids...)
	if err != nil {
		return nil, openError(id, ManifestObject, err)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("%w: the manifest of backup %s does not decrypt: %v", ErrCorrupt, id, err)
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%w: backup %s: %v", ErrCorrupt, id, err)
	}
	if m.ID != id {
		return nil, fmt.Errorf("%w: the manifest under %s belongs to backup %s", ErrCorrupt, id, m.ID)
	}
	return m, nil
}

// openError classifies the error of age.Decrypt on an object's header.
func openError(id, object string, err error) error {
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		return fmt.Errorf("%w: backup %s was encrypted to other recipients (use the identity whose public key was configured when it was made)", ErrWrongIdentity, id)
	}
	return fmt.Errorf("%w: %s of backup %s does not decrypt: %v", ErrCorrupt, object, id, err)
}

// sealed is a part being written: plaintext in, hashed, encrypted, hashed
// again and written on, in one pass.
type sealed struct {
	stored   counter
	age      io.WriteCloser
	plain    counter
	progress func(done int64)
}

// counter hashes and counts what passes through it.
type counter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// bufSize is the size of every buffer data streams through.
const bufSize = 1 << 20

func newSealed(dst io.Writer, recipients []age.Recipient) (*sealed, error) {
	s := &sealed{stored: counter{w: dst, h: sha256.New()}}
	var err error
	s.age, err = age.Encrypt(&s.stored, recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	s.plain = counter{w: s.age, h: sha256.New()}
	return s, nil
}

func (s *sealed) Write(p []byte) (int, error) {
	n, err := s.plain.Write(p)
	if s.progress != nil {
		s.progress(s.plain.n)
	}
	return n, err
}

// finish ends the encryption and describes the part.
func (s *sealed) finish(name string) (Part, error) {
	err := s.age.Close()
	return Part{
		Name: name, Object: name + ".age",
		Size: s.plain.n, SHA256: hex.EncodeToString(s.plain.h.Sum(nil)),
		StoredSize: s.stored.n, StoredSHA256: hex.EncodeToString(s.stored.h.Sum(nil)),
	}, err
}

// ReadIdentities parses an age identity file as age-keygen writes it (one
// AGE-SECRET-KEY-1... per line; blank lines and # comments allowed). The
// error never quotes the file's content.
func ReadIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("age identity file: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("age identity file %s: %v (it should hold the AGE-SECRET-KEY-1... line that age-keygen writes)", path, err)
	}
	return ids, nil
}

// ParseRecipients parses age public keys (age1...), one per entry or per
// line of an entry; blank lines and # comments are skipped. SSH keys are
// refused: a backup's recipients are age keys made for it.
func ParseRecipients(keys []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, k := range keys {
		for line := range strings.SplitSeq(k, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(line, "ssh-") || strings.HasPrefix(line, "ecdsa-") {
				return nil, errors.New("SSH keys are not accepted as backup recipients: make an age key with age-keygen and give its public key (age1...)")
			}
			if strings.HasPrefix(line, "AGE-SECRET-KEY-") {
				return nil, errors.New("a backup recipient is a public key (age1...), not the secret key: keep the secret key away from this server")
			}
			rs, err := age.ParseRecipients(strings.NewReader(line))
			if err != nil {
				return nil, fmt.Errorf("backup recipient %q is not an age public key (age1...): %v", short(line), err)
			}
			out = append(out, rs...)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no backup recipient: give at least one age public key (age1...)")
	}
	return out, nil
}

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
