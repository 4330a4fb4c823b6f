// Package blob stores files (CVs, attachments) encrypted, in a local
// directory (the default) or an S3-compatible bucket. Nothing leaves the
// process in clear.
//
// Each object gets its own key: a Tink streaming AEAD keyset
// (AES-256-GCM-HKDF, 1 MiB segments). The object's bytes are streamed
// through it, bound to the company and object id. The object's keyset is
// itself encrypted with the company's data key from internal/keys (its Tink
// key id in the ciphertext) and returned to the caller, who keeps it with
// the file's row. Rotating the company's data key therefore re-wraps these
// small keysets (Rewrap) without rewriting any file, and erasing a file's
// row makes the stored bytes unreadable even before they are deleted.
package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/keys"
)

// Errors of this package.
var (
	// ErrNotFound: no object under that name.
	ErrNotFound = fault.New(fault.ErrNotFound, "blob not found", "")
	// ErrTampered: the stored bytes or the object's key do not authenticate
	// (changed, truncated, or belonging to another object or company).
	ErrTampered = errors.New("blob does not authenticate")
	// ErrTooLarge: the content exceeds the limit given to Put.
	ErrTooLarge = errors.New("blob too large")
)

// Backend keeps opaque (already encrypted) objects by name.
type Backend interface {
	// Put stores the size bytes of r under name, replacing any object there.
	Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error
	// Get opens the object; ErrNotFound when there is none.
	Get(ctx context.Context, name string) (io.ReadCloser, error)
	// Delete removes the object; no error when there is none.
	Delete(ctx context.Context, name string) error
}

// Lister is a backend that can also enumerate its objects (a backup
// copies every one).
type Lister interface {
	Backend
	// Walk calls fn with the name ("tenant/object") and stored size of
	// every object, in no promised order, skipping objects being written.
	// It stops at the first error fn or the backend returns.
	Walk(ctx context.Context, fn func(name string, size int64) error) error
}

// Keyring is what the store needs of internal/keys. The primitive AEAD
// returns must open object keys wrapped with a company key added since the
// keyring cached the company's keyset: `kandidat keys rotate` runs in another
// process while servers run, re-wraps every document's key with the new data
// key, and other instances write new documents with it. keys.Keyring reloads
// the keyset when a ciphertext names a key it does not hold.
type Keyring interface {
	AEAD(ctx context.Context, tenantID string) (tink.AEAD, error)
}

var _ Keyring = (*keys.Keyring)(nil)

// Store encrypts objects into a backend.
type Store struct {
	backend Backend
	keys    Keyring
	// tmpDir holds the ciphertext while it is uploaded (the backend needs its size).
	tmpDir string
}

// New returns a store over backend; tmpDir ("" for the system's) holds
// ciphertext being written.
func New(backend Backend, k Keyring, tmpDir string) *Store {
	return &Store{backend: backend, keys: k, tmpDir: tmpDir}
}

// Object describes a stored object.
type Object struct {
	// Key is the object's own keyset, encrypted with the company's data key.
	// Keep it with the file's row: without it the object cannot be read.
	Key []byte
	// Size is the plaintext size in bytes.
	Size int64
}

func name(tenantID, objectID string) (string, error) {
	if !safeName(tenantID) || !safeName(objectID) {
		return "", fmt.Errorf("blob: bad tenant or object id")
	}
	return tenantID + "/" + objectID, nil
}

// safeName: ids as Kandidat makes them, so that no name escapes its folder.
func safeName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func associatedData(tenantID, objectID string) []byte {
	return []byte("kandidat.blob/" + tenantID + "/" + objectID)
}

// Put encrypts r (at most limit bytes; 0 for no limit) and stores it as
// objectID of the company. It returns ErrTooLarge, storing nothing, when r
// holds more than limit bytes.
func (s *Store) Put(ctx context.Context, tenantID, objectID string, r io.Reader, limit int64) (*Object, error) {
	n, err := name(tenantID, objectID)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(s.tmpDir, "kandidat-blob-*")
	if err != nil {
		return nil, fmt.Errorf("blob temporary file: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	obj, err := s.encrypt(ctx, tenantID, objectID, tmp, r, limit)
	if err != nil {
		return nil, err
	}
	ctSize, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := s.backend.Put(ctx, n, tmp, ctSize); err != nil {
		return nil, fmt.Errorf("store blob: %w", err)
	}
	return obj, nil
}

// encrypt streams r (at most limit bytes, 0 for no limit) through a new
// object key into dst.
func (s *Store) encrypt(ctx context.Context, tenantID, objectID string, dst io.Writer, r io.Reader, limit int64) (*Object, error) {
	companyKey, err := s.keys.AEAD(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("blob key: %w", err)
	}
	ad := associatedData(tenantID, objectID)
	var wrapped bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&wrapped), companyKey, ad); err != nil {
		return nil, fmt.Errorf("wrap blob key: %w", err)
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		return nil, fmt.Errorf("blob cipher: %w", err)
	}
	enc, err := sa.NewEncryptingWriter(dst, ad)
	if err != nil {
		return nil, fmt.Errorf("blob cipher: %w", err)
	}
	src := r
	if limit > 0 {
		src = io.LimitReader(r, limit+1)
	}
	size, err := io.Copy(enc, src)
	if err != nil {
		return nil, fmt.Errorf("encrypt blob: %w", err)
	}
	if limit > 0 && size > limit {
		return nil, ErrTooLarge
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encrypt blob: %w", err)
	}
	return &Object{Key: wrapped.Bytes(), Size: size}, nil
}

// Open returns a reader of the object's plaintext. Reading fails with
// ErrTampered as soon as a segment does not authenticate; a caller that
// serves it must not treat a partial read as the file.
func (s *Store) Open(ctx context.Context, tenantID, objectID string, key []byte) (io.ReadCloser, error) {
	n, err := name(tenantID, objectID)
	if err != nil {
		return nil, err
	}
	sa, err := s.cipher(ctx, tenantID, objectID, key)
	if err != nil {
		return nil, err
	}
	rc, err := s.backend.Get(ctx, n)
	if err != nil {
		return nil, err
	}
	dec, err := sa.NewDecryptingReader(rc, associatedData(tenantID, objectID))
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	return &plainReader{r: dec, c: rc}, nil
}

// ReadAll opens the object and reads it whole, authenticating every byte
// before returning any (for files small enough to hold in memory).
func (s *Store) ReadAll(ctx context.Context, tenantID, objectID string, key []byte) ([]byte, error) {
	rc, err := s.Open(ctx, tenantID, objectID, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

type plainReader struct {
	r io.Reader
	c io.Closer
}

func (p *plainReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	return n, err
}

func (p *plainReader) Close() error { return p.c.Close() }

func (s *Store) cipher(ctx context.Context, tenantID, objectID string, key []byte) (tink.StreamingAEAD, error) {
	companyKey, err := s.keys.AEAD(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(key)), companyKey, associatedData(tenantID, objectID))
	if err != nil {
		return nil, fmt.Errorf("%w: the object's key does not open: %v", ErrTampered, err)
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		return nil, fmt.Errorf("blob cipher: %w", err)
	}
	return sa, nil
}

// Rewrap re-encrypts an object's key with the company's current primary
// data key (after keys.Rotate); the stored object is not touched.
func (s *Store) Rewrap(ctx context.Context, tenantID, objectID string, key []byte) ([]byte, error) {
	companyKey, err := s.keys.AEAD(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	ad := associatedData(tenantID, objectID)
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(key)), companyKey, ad)
	if err != nil {
		return nil, fmt.Errorf("%w: the object's key does not open: %v", ErrTampered, err)
	}
	var out bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&out), companyKey, ad); err != nil {
		return nil, fmt.Errorf("wrap blob key: %w", err)
	}
	return out.Bytes(), nil
}

// Delete removes the stored object.
func (s *Store) Delete(ctx context.Context, tenantID, objectID string) error {
	n, err := name(tenantID, objectID)
	if err != nil {
		return err
	}
	return s.backend.Delete(ctx, n)
}
